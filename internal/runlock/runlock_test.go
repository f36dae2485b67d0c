package runlock

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAcquire(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, dir string) func() // returns a cleanup
		want  error
	}{
		{"free", func(*testing.T, string) func() { return func() {} }, nil},
		{"held in this process", func(t *testing.T, dir string) func() {
			l, err := Acquire(dir)
			if err != nil {
				t.Fatal(err)
			}
			return func() { l.Release() }
		}, ErrLocked},
		{"released", func(t *testing.T, dir string) func() {
			l, err := Acquire(dir)
			if err != nil {
				t.Fatal(err)
			}
			l.Release()
			l.Release()
			return func() {}
		}, nil},
		{"stale file of a dead process", func(t *testing.T, dir string) func() {
			os.WriteFile(filepath.Join(dir, Name), []byte("999999999\n"), 0o644)
			return func() {}
		}, nil},
		{"held by another process", func(t *testing.T, dir string) func() {
			return holdInChild(t, dir)
		}, ErrLocked},
		{"held by a process killed since", func(t *testing.T, dir string) func() {
			holdInChild(t, dir)() // kill -9
			return func() {}
		}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			defer c.setup(t, dir)()
			l, err := Acquire(dir)
			if !errors.Is(err, c.want) {
				t.Fatalf("Acquire: %v, want %v", err, c.want)
			}
			if err != nil {
				return
			}
			defer l.Release()
			b, _ := os.ReadFile(filepath.Join(dir, Name))
			if strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
				t.Errorf("lock file holds %q, want our pid %d", b, os.Getpid())
			}
		})
	}
}

func TestLockedNamesPid(t *testing.T) {
	dir := t.TempDir()
	defer holdInChild(t, dir)()
	_, err := Acquire(dir)
	if err == nil || !strings.Contains(err.Error(), "(pid ") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("error %v: want the folder and the holder's pid", err)
	}
}

// holdInChild starts this test binary as a process that takes the lock and
// waits; the returned function kills it (SIGKILL) and waits for it.
func holdInChild(t *testing.T, dir string) func() {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHold$")
	cmd.Env = append(os.Environ(), "RUNLOCK_HOLD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := out.Read(buf); err != nil || string(buf[:2]) != "ok" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper did not take the lock: %q %v", buf, err)
	}
	return func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

func TestHelperHold(t *testing.T) {
	dir := os.Getenv("RUNLOCK_HOLD")
	if dir == "" {
		t.Skip("helper process for holdInChild")
	}
	if _, err := Acquire(dir); err != nil {
		fmt.Println("no:", err)
		os.Exit(1)
	}
	fmt.Println("ok")
	time.Sleep(time.Minute)
	os.Exit(0)
}
