// Package safefile opens the files a user names (images, model files,
// configs, run-folder inputs) so that no path can hang the program or
// exhaust its memory.
//
// The one idea: check what a path is before reading from it, and never read
// more than the caller's limit. A FIFO blocks open(2) until a writer comes,
// and /dev/zero or a link to it never ends, so Open refuses anything that is
// not a regular file, first by stat, then again on the opened descriptor
// (opened non-blocking where the system has that), which closes the window
// in which the path could be swapped for a FIFO. ReadFile reads through a
// limit of one byte more than allowed, so a file that grows while being read
// is still caught, and nothing is allocated from the size the file claims.
package safefile
