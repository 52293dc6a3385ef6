package apispec_test

import (
	"testing"

	"tongxin/internal/apispec/apitest"
)

// TestDescriptionIsValid lints openapi.json: OpenAPI 3.1 document
// validation, every $ref resolved, every example valid against its schema.
func TestDescriptionIsValid(t *testing.T) {
	doc, err := apitest.Load()
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s: no operationId or summary", where)
			}
			if other, ok := ids[op.OperationID]; ok {
				t.Errorf("%s: operationId %s is also %s's", where, op.OperationID, other)
			}
			ids[op.OperationID] = where
			if op.Responses.Len() == 0 {
				t.Errorf("%s: no responses", where)
			}
		}
	}
}
