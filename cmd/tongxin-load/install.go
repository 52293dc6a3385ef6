package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Demo accounts the scenarios act as (internal/app/demo*.go).
const (
	hqUser       = "hqstaff" // the HQ's staff officer: /me, reports, the pages
	officerUser  = "kakou"   // the checkpoint officer of 建宁大桥: scans
	contactUser  = "qianjin" // 千金药业's contact, whose approved passes are scanned
	demoPassword = "tongxin-demo"
)

// install is a demo installation in a temporary directory and what the
// scenarios need of it.
type install struct {
	bin, dir, dbURL string
	env             []string

	hqToken, officerToken, contactToken string
	testingToken                        string   // jianshe's: the register and the samples
	gateToken, gate                     string   // menggang's, and the estate gate
	gateCodes                           []string // resident codes of its community
	cookie                              string   // hqstaff's session
	checkpoint                          string   // kakou's checkpoint
	passes                              []string // pass tokens allowed at it
	enterprises                         []string
	meBytes, scanBytes                  int // tongxin's answer sizes, for the bare server

	// mass testing (prepareTesting): the demo's campaign, the residents'
	// code ids in a file, one a line, and how many.
	campaign, residentsFile string
	residentCount           int
}

// newInstall runs `tongxin demo` into dir (its database SQLite in dir, or
// dbURL, an empty PostgreSQL database) and issues the API tokens.
func newInstall(ctx context.Context, bin, dir, dbURL string) (*install, error) {
	in := &install{bin: bin, dir: dir, dbURL: "sqlite:" + filepath.Join(dir, "tongxin.db")}
	if dbURL != "" {
		if err := checkEmpty(ctx, dbURL); err != nil {
			return nil, err
		}
		in.dbURL = dbURL
	}
	in.env = append(os.Environ(), "TONGXIN_DB="+in.dbURL, "TONGXIN_DATA_DIR="+dir)
	if dbURL != "" { // PostgreSQL is migrated by the operator, not on first start
		if _, err := in.tongxin(ctx, "migrate"); err != nil {
			return nil, err
		}
	}
	if _, err := in.tongxin(ctx, "demo"); err != nil {
		return nil, err
	}
	for user, dst := range map[string]*string{hqUser: &in.hqToken, officerUser: &in.officerToken, contactUser: &in.contactToken,
		testingUser: &in.testingToken, gateUser: &in.gateToken} {
		out, err := in.tongxin(ctx, "token", "create", "--username", user, "--name", "tongxin-load")
		if err != nil {
			return nil, err
		}
		*dst = strings.TrimSpace(out)
	}
	return in, nil
}

// tongxin runs a tongxin subcommand on the installation and returns its
// stdout.
func (in *install) tongxin(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, in.bin, append(args, "--db", in.dbURL)...)
	cmd.Env = in.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", in.bin, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// serve starts tongxin serve on a loopback port.
func (in *install) serve(ctx context.Context, p pinning) (*server, error) {
	cmd := command(ctx, p.server, in.bin, "serve", "--db", in.dbURL, "--addr", "127.0.0.1:0", "--log-level", "info")
	cmd.Env = in.env
	return startServer(cmd, filepath.Join(in.dir, "serve.log"))
}

// prepare asks the running server, through the API, for what the
// scenarios need: the checkpoint, passes it allows, enterprises, a session
// and the answer sizes.
func (in *install) prepare(ctx context.Context, base string) error {
	c := &apiClient{base: base, http: &http.Client{Timeout: 30 * time.Second}}
	var cps struct{ Items []struct{ ID int64 } }
	if err := c.getJSON(ctx, "/api/v1/checkpoints", in.officerToken, &cps); err != nil || len(cps.Items) == 0 {
		return fmt.Errorf("the checkpoint of %s: %v", officerUser, err)
	}
	in.checkpoint = fmt.Sprint(cps.Items[0].ID)
	var ents struct{ Items []struct{ Key string } }
	if err := c.getJSON(ctx, "/api/v1/enterprises?limit=100", in.hqToken, &ents); err != nil || len(ents.Items) == 0 {
		return fmt.Errorf("the enterprises: %v", err)
	}
	for _, e := range ents.Items {
		in.enterprises = append(in.enterprises, e.Key)
	}
	me, _, err := c.do(ctx, "GET", "/api/v1/me", in.hqToken, nil)
	if err != nil {
		return err
	}
	in.meBytes = len(me)
	if in.cookie, err = c.login(ctx, hqUser, demoPassword); err != nil {
		return err
	}
	return in.preparePasses(ctx, c)
}

// preparePasses collects the tokens of the contact's approved passes and
// keeps those the checkpoint allows, scanning each once.
func (in *install) preparePasses(ctx context.Context, c *apiClient) error {
	var batches struct {
		Items []struct {
			ID     int64
			Status string
		}
	}
	if err := c.getJSON(ctx, "/api/v1/pass-batches", in.contactToken, &batches); err != nil {
		return fmt.Errorf("the pass batches: %w", err)
	}
	stamp := time.Now().Unix()
	for _, b := range batches.Items {
		if b.Status != "approved" {
			continue
		}
		var passes struct{ Items []struct{ Token string } }
		if err := c.getJSON(ctx, fmt.Sprintf("/api/v1/pass-batches/%d/passes", b.ID), in.contactToken, &passes); err != nil {
			return fmt.Errorf("the passes of batch %d: %w", b.ID, err)
		}
		for _, p := range passes.Items {
			body := fmt.Sprintf(`{"token":%q,"client_id":"setup-%d-%d"}`, p.Token, stamp, int64(len(in.passes))+b.ID*1000)
			got, _, err := c.do(ctx, "POST", "/api/v1/checkpoints/"+in.checkpoint+"/scans", in.officerToken, []byte(body))
			if err != nil {
				return fmt.Errorf("a first scan: %w", err)
			}
			if bytes.Contains(got, []byte(`"verdict":"allow"`)) {
				in.passes = append(in.passes, p.Token)
				in.scanBytes = len(got)
			}
		}
	}
	if len(in.passes) == 0 {
		return errors.New("no pass of the demo is allowed at the officer's checkpoint")
	}
	return nil
}

// apiClient calls the API of the installation.
type apiClient struct {
	base string
	http *http.Client
}

// do sends one request (a body is JSON) and returns the body of a 2xx
// answer.
func (c *apiClient) do(ctx context.Context, method, path, token string, body []byte) ([]byte, *http.Response, error) {
	return c.send(ctx, method, path, token, "application/json", body)
}

// send sends one request with a body of type ctype and returns the body
// of a 2xx answer.
func (c *apiClient) send(ctx context.Context, method, path, token, ctype string, body []byte) ([]byte, *http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err == nil && (res.StatusCode < 200 || res.StatusCode > 299) {
		err = fmt.Errorf("%s %s: status %d: %.200s", method, path, res.StatusCode, got)
	}
	return got, res, err
}

func (c *apiClient) getJSON(ctx context.Context, path, token string, out any) error {
	body, _, err := c.do(ctx, "GET", path, token, nil)
	if err != nil {
		return err
	}
	return json.Unmarshal(body, out)
}

// login opens a session (POST /api/v1/session) and returns its cookie as
// name=value.
func (c *apiClient) login(ctx context.Context, user, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	_, res, err := c.do(ctx, "POST", "/api/v1/session", "", body)
	if err != nil {
		return "", fmt.Errorf("sign in as %s: %w", user, err)
	}
	for _, ck := range res.Cookies() {
		if ck.Value != "" {
			return ck.Name + "=" + ck.Value, nil
		}
	}
	return "", fmt.Errorf("sign in as %s: no session cookie in the answer", user)
}

// checkEmpty refuses a database that has tables: the suite installs the
// demo city and its register, which would meet what is there.
func checkEmpty(ctx context.Context, dbURL string) error {
	d, err := sql.Open("pgx", dbURL)
	if err != nil {
		return fmt.Errorf("-db: %w", err)
	}
	defer d.Close()
	var n int
	if err := d.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&n); err != nil {
		return fmt.Errorf("-db: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("-db: the database has %d tables: give an empty one (dropdb and createdb it)", n)
	}
	return nil
}
