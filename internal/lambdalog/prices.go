package lambdalog

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Arch is a function's instruction set architecture, which sets its
// duration price. Results do not say it.
type Arch string

// The architectures Lambda runs functions on.
const (
	ArchX86 Arch = "x86_64"
	ArchARM Arch = "arm64"
)

// DefaultArch is the architecture assumed when none is given: Lambda's
// default for a new function.
const DefaultArch = ArchX86

// ParseArch reads an architecture as Lambda names it (x86_64, arm64), or
// as x86, amd64 or arm; "" is DefaultArch.
func ParseArch(s string) (Arch, error) {
	switch strings.ToLower(s) {
	case "":
		return DefaultArch, nil
	case "x86_64", "x86", "amd64":
		return ArchX86, nil
	case "arm64", "arm", "aarch64":
		return ArchARM, nil
	}
	return "", fmt.Errorf("unknown architecture %q (use x86_64 or arm64)", s)
}

// The built-in price table: AWS Lambda on-demand prices in US East (N.
// Virginia), as published on https://aws.amazon.com/lambda/pricing/ and in
// the AWS price list for AWSLambda in us-east-1, checked on PricesAsOf.
// Duration is priced per GB-second in tiers of a month's aggregate
// duration per account, region and architecture (tier bounds from
// https://aws.amazon.com/blogs/compute/introducing-tiered-pricing-for-aws-lambda/):
//
//	x86_64: first 6 billion GB-s $0.0000166667, next 9 billion $0.000015, over 15 billion $0.0000133334
//	arm64:  first 7.5 billion GB-s $0.0000133334, next 11.25 billion $0.0000120001, over 18.75 billion $0.0000106667
//
// Requests cost $0.20 per million on both. Other regions price
// differently; the free tier (1 million requests and 400,000 GB-s a month)
// is not taken off.
const (
	// PricesAsOf is the day the built-in prices were checked.
	PricesAsOf = "2026-11-30"
	// PricesSource is where the built-in prices come from.
	PricesSource = "https://aws.amazon.com/lambda/pricing/"
	// DefaultUSDPerMillionRequests is the request price, in US dollars per
	// million requests.
	DefaultUSDPerMillionRequests = 0.20
)

// Tier is one step of a duration price.
type Tier struct {
	// UpToGBSeconds is the month's aggregate GB-seconds the tier ends at;
	// 0 means it has no end.
	UpToGBSeconds float64
	// USDPerGBSecond is the price in the tier.
	USDPerGBSecond float64
}

// Prices is what a cost estimate charges.
type Prices struct {
	Arch Arch
	// Tiers price the duration; the last one has no end.
	Tiers []Tier
	// USDPerMillionRequests prices the requests.
	USDPerMillionRequests float64
	// Source says where the prices come from; AsOf when they were checked
	// ("" for a price given on the command line).
	Source, AsOf string
}

// DefaultPrices returns the built-in us-east-1 on-demand prices for arch.
func DefaultPrices(arch Arch) Prices {
	p := Prices{Arch: arch, USDPerMillionRequests: DefaultUSDPerMillionRequests, Source: PricesSource, AsOf: PricesAsOf}
	if arch == ArchARM {
		p.Tiers = []Tier{{7.5e9, 0.0000133334}, {18.75e9, 0.0000120001}, {0, 0.0000106667}}
	} else {
		p.Tiers = []Tier{{6e9, 0.0000166667}, {15e9, 0.000015}, {0, 0.0000133334}}
	}
	return p
}

// FlatPrices returns a single duration price, usdPerGBSecond, with the
// built-in request price: a --price-per-gb-s override, say for another
// region.
func FlatPrices(arch Arch, usdPerGBSecond float64) Prices {
	return Prices{Arch: arch, Tiers: []Tier{{0, usdPerGBSecond}}, USDPerMillionRequests: DefaultUSDPerMillionRequests,
		Source: "--price-per-gb-s"}
}

// DurationUSD is the price of gbs GB-seconds, counting the tiers from
// zero: as if they were the month's only usage on this architecture.
func (p Prices) DurationUSD(gbs float64) float64 {
	var usd, from float64
	for _, t := range p.Tiers {
		if t.UpToGBSeconds == 0 || gbs <= t.UpToGBSeconds {
			return usd + (gbs-from)*t.USDPerGBSecond
		}
		usd += (t.UpToGBSeconds - from) * t.USDPerGBSecond
		from = t.UpToGBSeconds
	}
	return usd
}

// FirstTierUSD is the price of a GB-second in the first tier.
func (p Prices) FirstTierUSD() float64 {
	if len(p.Tiers) == 0 {
		return 0
	}
	return p.Tiers[0].USDPerGBSecond
}

// RequestsUSD is the price of n requests.
func (p Prices) RequestsUSD(n int64) float64 {
	return float64(n) * p.USDPerMillionRequests / 1e6
}

// GBSeconds converts MB·ms to GB-seconds (1 GB = 1024 MB, as Lambda's
// pricing examples count: 512 MB for 1 s is 0.5 GB-s).
func GBSeconds(mbms int64) float64 { return float64(mbms) / 1024 / 1000 }

// FormatGBSeconds writes GB-seconds with four significant digits, or
// whole from 10,000 on: "0.03816", "655.9", "31780".
func FormatGBSeconds(v float64) string {
	if v >= 10000 {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// FormatUSD writes a dollar amount with cents, or with three significant
// digits when it is under a cent, without an exponent: "$12.34",
// "$0.00000123".
func FormatUSD(v float64) string {
	switch {
	case v == 0:
		return "$0"
	case v >= 0.01:
		return fmt.Sprintf("$%.2f", v)
	}
	decimals := 2 - int(math.Floor(math.Log10(v)))
	return fmt.Sprintf("$%.*f", decimals, v)
}
