// Package runlock gives one process at a time a run folder.
//
// Two fmnist processes writing into one folder would leave some files of
// each, a mix that looks like a run and is none. The lock is an advisory
// lock held on the open file FOLDER/.lock (flock on Unix, LockFileEx on
// Windows). The system drops it when the process ends however it ends, so a
// kill -9 leaves no stale lock behind to clean up, and no pid has to be
// trusted to decide whether a lock is stale. The file holds the pid of the
// holder only to name it in the error. It is never removed: removing a lock
// file races with a process that has it open and is about to lock it.
package runlock
