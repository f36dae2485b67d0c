//go:build !unix

package main

import "os"

// ttyWidth is 0 where there is no TIOCGWINSZ: termWidth falls back on
// $COLUMNS, then 80.
func ttyWidth(f *os.File) int { return 0 }
