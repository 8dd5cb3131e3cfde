package lambdaapi

import (
	"encoding/json"
	"testing"
)

func TestErrorDocument(t *testing.T) {
	doc := ErrorDocument("Runtime.ExitError", `exit "status" 2`)
	var got map[string]string
	if err := json.Unmarshal(doc, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["errorType"] != "Runtime.ExitError" || got["errorMessage"] != `exit "status" 2` {
		t.Errorf("document %s", doc)
	}
}
