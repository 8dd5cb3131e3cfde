package lambdafan

import (
	"context"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// Resolved is a request as the client would send it: checked, its region
// chosen and its payload and client context encoded. [Client.Resolve]
// makes one.
type Resolved struct {
	// Region is the region the request is sent to.
	Region string
	// FunctionName is the request's function name, unchanged.
	FunctionName string
	// Qualifier is the qualifier sent beside FunctionName: the request's,
	// or "" when FunctionName already ends with it.
	Qualifier string
	// InvocationType is the invocation type sent; never empty.
	InvocationType InvocationType
	// LogType is the log type sent; "" means None.
	LogType LogType
	// Payload is the request body; nil for none.
	Payload []byte
	// ClientContext is the base64-encoded client context; "" for none.
	ClientContext string
}

// Resolve makes the checks that an invocation of req makes before
// anything is sent — the function name, qualifier, region, invocation and
// log types, the payload and client context and their sizes — and returns
// what would be sent. Its errors are those the invocation's Result would
// carry: a *[RequestError] naming the offending field, or an error
// resolving the region's endpoint. It sends nothing and needs no
// credentials.
//
// It lets a program hand requests to something else that invokes them
// (`lambdafan invoke --via stepfunctions` hands them to a Step Functions
// state machine) with every request lambdafan would refuse refused the
// same way.
func (c *Client) Resolve(ctx context.Context, req Request) (Resolved, error) {
	p, err := c.prepare(ctx, &req)
	if err != nil {
		return Resolved{}, err
	}
	qualifier := req.Qualifier
	if fn, err := lambdaapi.Parse(req.FunctionName); err == nil && fn.Qualifier == qualifier {
		qualifier = "" // already in the name, as prepare sends it
	}
	return Resolved{
		Region:         p.region,
		FunctionName:   req.FunctionName,
		Qualifier:      qualifier,
		InvocationType: p.invocationType,
		LogType:        p.logType,
		Payload:        p.body,
		ClientContext:  p.clientContext,
	}, nil
}
