package emulator

// writeFunctionLog copies one invocation's framed log to Config.FunctionLog,
// whole, so concurrent invocations' logs do not interleave.
func (s *Server) writeFunctionLog(b []byte) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	_, _ = s.cfg.FunctionLog.Write(b)
}
