package limit

import "runtime"

func runtimeGosched() { runtime.Gosched() }
