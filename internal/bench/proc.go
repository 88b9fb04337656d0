package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the kernel's USER_HZ, the unit of utime and stime in /proc/<pid>/stat. Reading it
// properly takes sysconf(_SC_CLK_TCK), which Go offers only through cgo; Linux has fixed it at 100
// on every architecture Go supports, so it is a constant here.
const clockTicks = 100

// ProcSample is what the kernel says of a process at one moment.
type ProcSample struct {
	CPU     time.Duration // user plus system time since the process started
	PeakRSS int64         // bytes: the resident set's high-water mark (VmHWM)
}

// ReadProc reads a process's CPU time from /proc/<pid>/stat and its peak resident memory from
// /proc/<pid>/status.
func ReadProc(pid int) (ProcSample, error) {
	var s ProcSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name, in parentheses, may hold spaces and parentheses itself: the fields that
	// follow are counted from the last closing one. utime and stime are the 14th and 15th fields
	// of the line, the 12th and 13th after the name.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return s, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(stat[end+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: %d fields after the name", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("/proc/%d/stat: utime or stime is not a number", pid)
	}
	s.CPU = time.Duration(utime+stime) * time.Second / clockTicks

	status, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	defer status.Close()
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			return s, fmt.Errorf("/proc/%d/status: VmHWM %q", pid, v)
		}
		s.PeakRSS = kb << 10
		return s, nil
	}
	if err := sc.Err(); err != nil {
		return s, err
	}
	return s, fmt.Errorf("/proc/%d/status: no VmHWM line", pid)
}

// ResetPeakRSS asks the kernel to restart a process's VmHWM from its current resident size, so that
// the peak afterwards is the run's own rather than the process's start-up. It needs the right to
// write /proc/<pid>/clear_refs (the same user, usually); it reports whether it worked.
func ResetPeakRSS(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}
