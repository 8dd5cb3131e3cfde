package cli

import (
	"flag"

	"github.com/lambdafan/lambdafan/internal/lambdalog"
)

// costFlags are the flags that price a run's invocations (invoke,
// summary, report).
type costFlags struct {
	arch        string
	pricePerGBs float64
}

func (c *costFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.arch, "arch", "x86_64", "price the functions' duration for `ARCH`, x86_64 or arm64 (results do not say which)")
	fs.Float64Var(&c.pricePerGBs, "price-per-gb-s", 0, "price the duration at `USD` per GB-second instead of the built-in us-east-1 on-demand tiers (as of "+lambdalog.PricesAsOf+")")
}

// prices returns the prices the flags ask for.
func (c *costFlags) prices() (lambdalog.Prices, error) {
	arch, err := lambdalog.ParseArch(c.arch)
	if err != nil {
		return lambdalog.Prices{}, usagef("--arch: %v", err)
	}
	switch {
	case c.pricePerGBs < 0:
		return lambdalog.Prices{}, usagef("--price-per-gb-s must not be negative, got %v", c.pricePerGBs)
	case c.pricePerGBs > 0:
		return lambdalog.FlatPrices(arch, c.pricePerGBs), nil
	}
	return lambdalog.DefaultPrices(arch), nil
}
