package web

import (
	"bytes"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"text/template/parse"
)

func isBlank(n *parse.ListNode) bool {
	for _, c := range n.Nodes {
		if t, ok := c.(*parse.TextNode); !ok || len(bytes.TrimSpace(t.Text)) > 0 {
			return false
		}
	}
	return true
}

// check walks every template: each {{template "x"}} must be defined, each
// t "key" must be in the zh-CN catalog, each static "file" must exist.
func (r *Renderer) check(set *template.Template) error {
	var problems []string
	for _, t := range set.Templates() {
		if t.Tree == nil || t.Tree.Root == nil {
			continue
		}
		walk(t.Tree.Root, func(n parse.Node) {
			switch n := n.(type) {
			case *parse.TemplateNode:
				if set.Lookup(n.Name) == nil {
					problems = append(problems, fmt.Sprintf("%s: template %q is not defined", t.Name(), n.Name))
				}
			case *parse.CommandNode:
				if len(n.Args) < 2 {
					return
				}
				id, ok := n.Args[0].(*parse.IdentifierNode)
				s, isStr := n.Args[1].(*parse.StringNode)
				if !ok || !isStr {
					return
				}
				switch id.Ident {
				case "t":
					if _, ok := r.catalog.msgs[LangZH][s.Text]; !ok {
						problems = append(problems, fmt.Sprintf("%s: catalog key %q is missing from zh-CN", t.Name(), s.Text))
					}
				case "static":
					if r.assets.URL(s.Text) == "" && !strings.HasPrefix(s.Text, "vendor/") {
						problems = append(problems, fmt.Sprintf("%s: static file %q does not exist", t.Name(), s.Text))
					}
				}
			}
		})
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("web: new renderer: %s", strings.Join(slices.Compact(problems), "; "))
	}
	return nil
}

// walk calls fn for n and every node below it.
func walk(n parse.Node, fn func(parse.Node)) {
	if n == nil {
		return
	}
	switch x := n.(type) {
	case *parse.ListNode:
		if x == nil {
			return
		}
		fn(x)
		for _, c := range x.Nodes {
			walk(c, fn)
		}
		return
	case *parse.PipeNode:
		if x == nil {
			return
		}
		fn(x)
		for _, c := range x.Cmds {
			walk(c, fn)
		}
		return
	}
	fn(n)
	switch x := n.(type) {
	case *parse.ActionNode:
		walk(x.Pipe, fn)
	case *parse.CommandNode:
		for _, a := range x.Args {
			walk(a, fn)
		}
	case *parse.ChainNode:
		walk(x.Node, fn)
	case *parse.IfNode:
		walkBranch(&x.BranchNode, fn)
	case *parse.RangeNode:
		walkBranch(&x.BranchNode, fn)
	case *parse.WithNode:
		walkBranch(&x.BranchNode, fn)
	case *parse.TemplateNode:
		walk(x.Pipe, fn)
	}
}

func walkBranch(b *parse.BranchNode, fn func(parse.Node)) {
	walk(b.Pipe, fn)
	walk(b.List, fn)
	walk(b.ElseList, fn)
}
