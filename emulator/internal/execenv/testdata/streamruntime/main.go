// Command streamruntime is a runtime that speaks Lambda's response
// streaming protocol directly, over raw HTTP/1.1 on one keep-alive
// connection: it posts each response with
// "Lambda-Runtime-Function-Response-Mode: streaming", a chunked body with
// one chunk per piece, and, when told to fail, the trailer fields
// Lambda-Runtime-Function-Error-Type and Lambda-Runtime-Function-Error-Body
// (base64 of the error document), as AWS's runtime clients do. Its event
// says what to send.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
)

type event struct {
	// Chunks are sent one chunk each, then Size bytes of 'x' in chunks
	// of 32 KiB.
	Chunks []string `json:"chunks"`
	Size   int      `json:"size"`
	// Mode is the response mode header; "" sends "streaming", "none"
	// sends none (a buffered response with a chunked body, as
	// aws-lambda-go posts one).
	Mode string `json:"mode"`
	// FailType, when set, ends the body with error trailers of that type
	// and FailMessage.
	FailType    string `json:"failType"`
	FailMessage string `json:"failMessage"`
	// Print is written to standard output while streaming.
	Print string `json:"print"`
}

type runtime struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
}

func main() {
	rt := &runtime{addr: os.Getenv("AWS_LAMBDA_RUNTIME_API")}
	for {
		id, payload, err := rt.next()
		if err != nil {
			fmt.Fprintln(os.Stderr, "next:", err)
			os.Exit(2)
		}
		var ev event
		_ = json.Unmarshal(payload, &ev)
		if err := rt.respond(id, ev); err != nil {
			// The emulator refused the rest (too large, say) and closed
			// the connection: poll again on a new one.
			fmt.Fprintln(os.Stderr, "respond:", err)
			rt.close()
		}
	}
}

func (rt *runtime) conn() error {
	if rt.c != nil {
		return nil
	}
	c, err := net.Dial("tcp", rt.addr)
	if err != nil {
		return err
	}
	rt.c, rt.br = c, bufio.NewReader(c)
	return nil
}

func (rt *runtime) close() {
	if rt.c != nil {
		rt.c.Close()
		rt.c = nil
	}
}

// next polls /next until it gets an invocation.
func (rt *runtime) next() (string, []byte, error) {
	for attempt := 0; ; attempt++ {
		if err := rt.conn(); err != nil {
			return "", nil, err
		}
		_, err := io.WriteString(rt.c, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: "+rt.addr+"\r\n\r\n")
		var resp *http.Response
		if err == nil {
			resp, err = http.ReadResponse(rt.br, nil)
		}
		if err != nil {
			rt.close() // an idle keep-alive connection the emulator closed
			if attempt < 3 {
				continue
			}
			return "", nil, err
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			return "", nil, fmt.Errorf("status %d, %v", resp.StatusCode, err)
		}
		return resp.Header.Get("Lambda-Runtime-Aws-Request-Id"), body, nil
	}
}

// respond streams the response ev describes and reads the answer.
func (rt *runtime) respond(id string, ev event) error {
	w := bufio.NewWriterSize(rt.c, 64<<10)
	fmt.Fprintf(w, "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: %s\r\n", id, rt.addr)
	switch ev.Mode {
	case "":
		w.WriteString("Lambda-Runtime-Function-Response-Mode: streaming\r\n")
	case "none":
	default:
		fmt.Fprintf(w, "Lambda-Runtime-Function-Response-Mode: %s\r\n", ev.Mode)
	}
	w.WriteString("Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n" +
		"Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n")
	chunk := func(s string) error {
		fmt.Fprintf(w, "%x\r\n%s\r\n", len(s), s)
		return w.Flush() // each piece goes out as it is produced
	}
	for _, c := range ev.Chunks {
		if err := chunk(c); err != nil {
			return err
		}
		if ev.Print != "" {
			fmt.Println(ev.Print)
		}
	}
	piece := strings.Repeat("x", 32<<10)
	for left := ev.Size; left > 0; left -= len(piece) {
		if err := chunk(piece[:min(left, len(piece))]); err != nil {
			return err
		}
	}
	w.WriteString("0\r\n")
	if ev.FailType != "" {
		doc, _ := json.Marshal(map[string]any{"errorType": ev.FailType, "errorMessage": ev.FailMessage, "trace": []string{"at handler (index.mjs:1:1)"}})
		fmt.Fprintf(w, "Lambda-Runtime-Function-Error-Type: %s\r\nLambda-Runtime-Function-Error-Body: %s\r\n",
			ev.FailType, base64.StdEncoding.EncodeToString(doc))
	}
	w.WriteString("\r\n")
	if err := w.Flush(); err != nil {
		return err
	}
	resp, err := http.ReadResponse(rt.br, nil)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
