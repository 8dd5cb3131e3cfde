package sfnrun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/lambdafan/lambdafan"
)

// Item is one request as a Map item, the input of its child execution:
// where the request came from (Key, which the child's output repeats so
// that a result can be matched to its line even when the ResultWriter
// leaves a child's input out) and the parameters of its lambda:invoke
// Task (Invoke).
type Item struct {
	Key    ItemKey    `json:"key"`
	Invoke InvokeArgs `json:"invoke"`
}

// ItemKey identifies an item's request in lambdafan's terms.
type ItemKey struct {
	// Line is the request's input line.
	Line int `json:"line"`
	// ID is the request's id as it was written: a JSON string or number;
	// empty when the request had none.
	ID json.RawMessage `json:"id,omitempty"`
	// FunctionName and InvocationType are the request's, as its result
	// reports them.
	FunctionName   string `json:"function_name"`
	InvocationType string `json:"invocation_type"`
}

// InvokeArgs are the parameters of the lambda:invoke Task, named as the
// Invoke API names them.
type InvokeArgs struct {
	// FunctionName is the function, with the request's qualifier appended
	// (name:qualifier) when it has one that the name does not carry.
	FunctionName string `json:"FunctionName"`
	// Payload is the event, a JSON value: the request's payload, or {}
	// when it has none.
	Payload        json.RawMessage `json:"Payload"`
	InvocationType string          `json:"InvocationType"`
	LogType        string          `json:"LogType"`
	// ClientContext is the base64-encoded client context; omitted when
	// the request has none (the Task that passes it runs only for items
	// that have one, see ClientContextUse).
	ClientContext string `json:"ClientContext,omitempty"`
}

// NewItem returns the item, as one line of JSON without a newline, for
// the checked request r (see lambdafan.Client.Resolve) read from the
// given input line with the given id (numericID: the id was a JSON
// number). A request that cannot be an item is refused with a
// *lambdafan.RequestError, as a request lambdafan refuses: a payload that
// is not JSON (the Task passes JSON only) or an item larger than
// MaxPayloadBytes (Step Functions' limit for a child's input).
func NewItem(line int, id string, numericID bool, r lambdafan.Resolved) ([]byte, error) {
	it := Item{
		Key: ItemKey{Line: line, FunctionName: r.FunctionName, InvocationType: string(r.InvocationType)},
		Invoke: InvokeArgs{
			FunctionName:   r.FunctionName,
			Payload:        r.Payload,
			InvocationType: string(r.InvocationType),
			LogType:        string(r.LogType),
			ClientContext:  r.ClientContext,
		},
	}
	if id != "" {
		if numericID {
			it.Key.ID = json.RawMessage(id)
		} else {
			it.Key.ID = json.RawMessage(strconv.Quote(id))
		}
		if !json.Valid(it.Key.ID) {
			it.Key.ID = json.RawMessage(strconv.Quote(id))
		}
	}
	if r.Qualifier != "" {
		it.Invoke.FunctionName += ":" + r.Qualifier
	}
	if it.Invoke.LogType == "" {
		it.Invoke.LogType = string(lambdafan.LogNone)
	}
	switch {
	case len(bytes.TrimSpace(r.Payload)) == 0:
		// Lambda runs a function invoked with no body on the event {}; the
		// Task needs a Payload to pass.
		it.Invoke.Payload = json.RawMessage("{}")
	case !json.Valid(r.Payload):
		return nil, &lambdafan.RequestError{Field: "payload", Err: fmt.Errorf("is not JSON: a Step Functions task passes JSON only")}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep the payload's text as it was written
	if err := enc.Encode(it); err != nil {
		return nil, fmt.Errorf("encode item: %w", err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(b) > MaxPayloadBytes {
		return nil, &lambdafan.RequestError{Field: "payload", Err: fmt.Errorf(
			"the request is %d bytes as a Map item, more than the %d bytes Step Functions allows a child execution's input", len(b), MaxPayloadBytes)}
	}
	return b, nil
}
