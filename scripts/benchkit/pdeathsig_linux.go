package benchkit

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the served process when the benchmark that started it
// exits, also when it exits without stopping it (a failed step ends the program at once):
// a forgotten server of a million units would skew every step after it.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
