// Package sysmem says how much memory this process may use: the machine's
// physical memory, lowered by a cgroup limit or an address-space rlimit
// where the system has them, and how much it has used at its peak.
//
// These figures are what a memory budget is a fraction of. Where a system
// gives no figure, Limit returns 0 and the caller picks a fixed budget.
package sysmem
