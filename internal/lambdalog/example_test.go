package lambdalog_test

import (
	"fmt"
	"os"

	"github.com/lambdafan/lambdafan/internal/lambdalog"
)

func ExampleParse() {
	tail := "START RequestId: 8f5c Version: $LATEST\nEND RequestId: 8f5c\n" +
		"REPORT RequestId: 8f5c\tDuration: 102.35 ms\tBilled Duration: 356 ms\tMemory Size: 512 MB\tMax Memory Used: 75 MB\tInit Duration: 253.12 ms\t\n"
	r, ok := lambdalog.Parse(tail, "8f5c")
	fmt.Println(ok, r.ColdStart(), r.InitDuration, r.MBMilliseconds())
	// Output: true true 253.12 182272
}

func ExampleUsage() {
	u := lambdalog.NewUsage()
	for range 1000 {
		u.Add(lambdalog.Invocation{Status: 200, Tail: "REPORT RequestId: x\tDuration: 99.10 ms\tBilled Duration: 100 ms\tMemory Size: 1024 MB\tMax Memory Used: 80 MB\t\n"})
	}
	s := u.Summary(lambdalog.DefaultPrices(lambdalog.ArchARM))
	s.WriteText(os.Stdout)
	// Output:
	// cold starts: 0 of 1000 invocations with a REPORT (0.0%)
	// cost estimate: $0.00133 duration (100 GB-s, arm64) + $0.000200 requests (1000) = $0.00153 at us-east-1 on-demand prices of 2026-11-30, no free tier
}
