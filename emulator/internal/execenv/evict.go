package execenv

import (
	"slices"
	"time"
)

// Lambda keeps an execution environment for a while after its last
// invocation and then shuts it down — extensions receive SHUTDOWN, the
// runtime SIGTERM and, after a short grace, SIGKILL ("Shutdown phase",
// AWS Lambda Developer Guide, lambda-runtime-environment.html). How long
// it waits is not documented; the pool waits Config.IdleTimeout.
//
// One timer per pool, armed for the environment idle the longest, wakes
// the evictor; giving an environment back arms it if it is not armed
// already, so an invocation costs no more than reading the clock.

// evictIdle shuts down environments idle for the pool's idle timeout,
// until Close. It is one of the pool's goroutines.
func (p *Pool) evictIdle() {
	for {
		select {
		case <-p.done:
			return
		case <-p.evictTimer.C:
		}
		for _, e := range p.takeExpired(time.Now()) {
			// The evictor is counted in wg, so this Add cannot race with
			// Close's Wait.
			p.wg.Go(e.shutDown)
		}
	}
}

// takeExpired takes the environments idle since before now minus the idle
// timeout out of the pool, and arms the timer for the next one to expire.
func (p *Pool) takeExpired(now time.Time) []*environment {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.evictArmed = false
	if p.closed {
		return nil
	}
	var expired []*environment
	var next time.Time
	for i := 0; i < len(p.idle); {
		e := p.idle[i]
		if e.free == e.slots { // no invocation runs in it
			due := e.idleSince.Add(p.idleTimeout)
			if !due.After(now) {
				p.idle = slices.Delete(p.idle, i, i+1)
				delete(p.live, e)
				expired = append(expired, e)
				continue
			}
			if next.IsZero() || due.Before(next) {
				next = due
			}
		}
		i++
	}
	if !next.IsZero() {
		p.evictArmed = true
		p.evictTimer.Reset(next.Sub(now))
	}
	return expired
}

// shutDown stops an environment taken out of its pool the way Lambda shuts
// one down: extensions get their SHUTDOWN event, the processes SIGTERM
// (thawed first) and, after shutdownGrace, SIGKILL. It returns once the
// process is reaped and the environment's resources are freed.
func (e *environment) shutDown() {
	e.beginShutdown()
	if err := e.terminate(); err != nil {
		e.pool.log.Warn("stop execution environment", "function", e.pool.name, "pid", e.pid(), "err", err)
	}
	if !e.awaitDeath(shutdownGrace) {
		e.kill()
	}
	e.release()
}
