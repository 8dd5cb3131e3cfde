package execenv

import "time"

// freezeDelay is how long an environment stays idle — its runtime waiting
// for an invocation, none using it — before it is frozen. Stopping and
// continuing a process group wakes every thread of it twice: at 2,500
// invocations a second on two cores, doing it for each invocation cost a
// fifth of the throughput (BenchmarkCommand_Concurrency50), while an
// environment that busy is thawed again within a millisecond or so. With
// the delay, only environments that do wait are frozen; a background
// timer can run for at most this long after an invocation.
const freezeDelay = 2 * time.Millisecond

// Lambda freezes an execution environment once its runtime and extensions
// have asked for the next event and none is pending, and thaws it to hand
// it one ("Lambda freezes the execution environment when the runtime and
// each extension have completed and there are no pending events", AWS
// Lambda Developer Guide, lambda-runtime-environment.html): timers and
// background work of a handler do not run between invocations. The
// emulator does the same with SIGSTOP and SIGCONT to the environment's
// process group, for environments running one invocation at a time (with
// several, one invocation's wait is another's run time).
//
// An environment is frozen freezeDelay after no invocation uses it
// (busy == 0) and its runtime waits on /next: whichever comes second —
// the runtime asking, or the invocation finishing with it (settle) — arms
// its freeze timer. An invocation thaws it before anything else (thaw),
// disarming the timer, so a runtime is never frozen with an invocation to
// run. All of it happens under fmu, so a SIGSTOP never follows the SIGCONT
// of an invocation that needs the process running. Before the environment
// is stopped for good it is thawed (thawForGood), and never frozen again:
// a stopped process would hold SIGTERM until continued, and a late timer
// must not signal a process group that may be gone.

// thaw marks e used by an invocation and continues its processes if they
// are frozen.
func (e *environment) thaw() {
	if !e.pool.freeze {
		return
	}
	e.fmu.Lock()
	defer e.fmu.Unlock()
	e.busy++
	e.disarmLocked()
	e.continueLocked()
}

// invocationDone marks the end of an invocation's use of e, and freezes e (after
// freezeDelay) if its runtime already waits for the next invocation.
func (e *environment) invocationDone() {
	if !e.pool.freeze {
		return
	}
	e.fmu.Lock()
	defer e.fmu.Unlock()
	e.busy--
	e.freezeLocked()
}

// freezeIfIdle freezes e (after freezeDelay) if no invocation uses it; the
// runtime has just asked for an invocation and none was waiting.
func (e *environment) freezeIfIdle() {
	if !e.pool.freeze {
		return
	}
	e.fmu.Lock()
	defer e.fmu.Unlock()
	e.freezeLocked()
}

// thawForGood continues e's processes if they are frozen and keeps them
// from being frozen again: e is being stopped.
func (e *environment) thawForGood() {
	if !e.pool.freeze {
		return
	}
	e.fmu.Lock()
	defer e.fmu.Unlock()
	e.thawed = true
	e.disarmLocked()
	e.continueLocked()
}

// freezeLocked arms the freeze timer if e is idle.
func (e *environment) freezeLocked() {
	if e.armed || !e.idleLocked() {
		return
	}
	if e.freezeTimer == nil {
		e.freezeTimer = time.AfterFunc(freezeDelay, e.freezeNow)
	} else {
		e.freezeTimer.Reset(freezeDelay)
	}
	e.armed = true
}

// idleLocked reports that e may be frozen.
func (e *environment) idleLocked() bool {
	return e.busy == 0 && !e.frozen && !e.thawed && e.ready.Load()
}

// disarmLocked stops the freeze timer.
func (e *environment) disarmLocked() {
	if e.armed {
		e.freezeTimer.Stop()
		e.armed = false
	}
}

// freezeNow freezes e if it is still idle; the freeze timer calls it.
func (e *environment) freezeNow() {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	if !e.armed {
		return // disarmed after the timer fired
	}
	e.armed = false
	if !e.idleLocked() {
		return
	}
	if err := stopGroup(e.cmd.Process); err != nil {
		e.pool.log.Warn("freeze execution environment", "function", e.pool.name, "pid", e.cmd.Process.Pid, "err", err)
		return
	}
	e.frozen = true
}

func (e *environment) continueLocked() {
	if !e.frozen {
		return
	}
	e.frozen = false
	if err := continueGroup(e.cmd.Process); err != nil {
		e.pool.log.Warn("thaw execution environment", "function", e.pool.name, "pid", e.cmd.Process.Pid, "err", err)
	}
}
