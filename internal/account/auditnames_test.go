package account

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"tongxin/internal/web"
)

// auditCodesInSource finds the actions and kinds of object the code
// writes into the audit log: string literals assigned to an action
// (on a line naming Action or action: `Action: "…"`, `action = "…"`, a
// tuple assignment) and to an object
// type. Actions composed at run time are listed in composed.
func auditCodesInSource(t *testing.T) (actions, objects map[string]string) {
	t.Helper()
	word := regexp.MustCompile(`\b[Aa]ction\b`) // not hookAction
	dotted := regexp.MustCompile(`"([a-z_]+(?:\.[a-z_]+)+)"`)
	object := regexp.MustCompile(`(?:ObjectType|object):\s*"([a-z_]+)"`)
	actions, objects = map[string]string{}, map[string]string{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			where := path + ":" + strconv.Itoa(i+1)
			if word.MatchString(line) {
				for _, m := range dotted.FindAllStringSubmatch(line, -1) {
					actions[m[1]] = where
				}
			}
			for _, m := range object.FindAllStringSubmatch(line, -1) {
				objects[m[1]] = where
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Composed at run time: area.orgKind.record writes "<kind>.<create|update>".
	for _, kind := range []string{"department", "workgroup"} {
		for _, op := range []string{"create", "update"} {
			actions[kind+"."+op] = "internal/area/service.go (orgKind.record)"
		}
	}
	return actions, objects
}

// Every action and kind of object the code writes into the audit log has a
// name in every language, so the audit page never shows a bare code (and
// its filter offers it by name). A module adding an action adds
// "action.<code>" (and "object.<kind>") to locales/zh-CN.json and en.json.
func TestEveryAuditCodeIsNamed(t *testing.T) {
	catalog, err := web.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	actions, objects := auditCodesInSource(t)
	if len(actions) < 40 || len(objects) < 15 {
		t.Fatalf("found %d actions and %d kinds of object in the source; the scan is broken", len(actions), len(objects))
	}
	for _, want := range []string{"traffic.notice.publish", "user.disable", "plan.approve", "enterprise.update", "department.create"} {
		if _, ok := actions[want]; !ok {
			t.Errorf("the scan missed the action %s", want)
		}
	}
	if _, ok := objects["pass_batch"]; !ok {
		t.Error("the scan missed the kind pass_batch")
	}
	var missing []string
	for _, set := range []struct {
		prefix string
		codes  map[string]string
	}{{actionPrefix, actions}, {objectPrefix, objects}} {
		for code, where := range set.codes {
			for _, lang := range web.Langs {
				if !catalog.Has(lang, set.prefix+code) || catalog.T(lang, set.prefix+code) == "" {
					missing = append(missing, lang+" "+set.prefix+code+" (written at "+where+")")
				}
			}
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("audit codes without a name in the catalog:\n%s", strings.Join(missing, "\n"))
	}
}
