package app

import (
	"context"
	"fmt"
	"os"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
)

// importSummary is what `tongxin import` prints of any import's result.
type importSummary struct {
	accepted, rejected, created, updated, errCount int
	rowErrs                                        []errs.FieldError
	ignored                                        []string
}

// importers are the kinds of `tongxin import`.
var importers = map[string]func(ctx context.Context, sys *System, data []byte, partial bool) (importSummary, error){
	"areas":       importAreas,
	"enterprises": importEnterprises,
	"reports":     importReports,
}

func runImport(ctx context.Context, env *Env, args []string) error {
	const help = "用法: tongxin import areas|enterprises|reports FILE [--partial] [--db URL]\n" +
		"  areas        行政区划：编码/code, 名称/name, 上级编码/parent_code, 层级/level\n" +
		"  enterprises  企业与项目：统一社会信用代码/credit_code 或 项目编码/project_code, 名称, 区域编码, 园区, 类别, 重点, 职工人数, 联系人, 联系电话\n" +
		"  reports      每日复工填报：统一社会信用代码/项目编码, 日期, 状态, 产能, 应到岗人数, 实际到岗人数, 闭环生产, 备注\n" +
		"文件为 CSV 或 XLSX，表头中英文均可；有任一错误行则不导入（--partial 只导入正确的行，企业与填报）"
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprintln(env.Stdout, help)
		if len(args) == 0 {
			return usageError("缺少导入类型")
		}
		return nil
	}
	kind, args := args[0], args[1:]
	run, ok := importers[kind]
	if !ok {
		return usageError(fmt.Sprintf("未知导入类型 %q（可用：areas、enterprises、reports）", kind))
	}
	f := newFlags(env, "import "+kind, "import "+kind+" FILE [--partial] [--db URL]")
	partial := f.Bool("partial", false, "只导入正确的行，报告错误行（enterprises、reports）")
	if err := f.parse(args); err != nil {
		return done(err)
	}
	if f.NArg() != 1 {
		return usageError("需要一个文件：tongxin import " + kind + " FILE")
	}
	data, err := os.ReadFile(f.Arg(0))
	if err != nil {
		return errs.Newf(errs.Invalid, "import_unreadable", "无法读取文件 %s", f.Arg(0))
	}
	sys, err := f.open(ctx, false, nil)
	if err != nil {
		return err
	}
	defer sys.Close()
	sum, err := run(ctx, sys, data, *partial)
	if err != nil {
		return err
	}
	sum.print(env)
	return nil
}

func importAreas(ctx context.Context, sys *System, data []byte, partial bool) (importSummary, error) {
	if partial {
		return importSummary{}, usageError("区划导入不支持 --partial：区划树须整体一致")
	}
	res, err := sys.Areas.Import(ctx, auth.System(), data)
	if err != nil {
		return importSummary{}, err
	}
	return importSummary{accepted: res.Accepted, created: res.Created, updated: res.Updated, ignored: res.IgnoredColumns}, nil
}

func importEnterprises(ctx context.Context, sys *System, data []byte, partial bool) (importSummary, error) {
	res, err := sys.Resumption.ImportEnterprises(ctx, auth.System(), data, partial)
	if err != nil {
		return importSummary{}, err
	}
	return importSummary{accepted: res.Accepted, rejected: res.Rejected, created: res.Created, updated: res.Updated,
		rowErrs: res.Errors, errCount: res.ErrorCount, ignored: res.IgnoredColumns}, nil
}

func importReports(ctx context.Context, sys *System, data []byte, partial bool) (importSummary, error) {
	res, err := sys.Resumption.ImportReports(ctx, auth.System(), data, partial)
	if err != nil {
		return importSummary{}, err
	}
	return importSummary{accepted: res.Accepted, rejected: res.Rejected, created: res.Created, updated: res.Updated,
		rowErrs: res.Errors, errCount: res.ErrorCount, ignored: res.IgnoredColumns}, nil
}

// print writes the summary: the rows imported, the columns ignored and
// the rows refused with their errors.
func (s importSummary) print(env *Env) {
	fmt.Fprintf(env.Stdout, "已导入 %d 行：新增 %d，更新 %d\n", s.accepted, s.created, s.updated)
	if len(s.ignored) > 0 {
		fmt.Fprintf(env.Stdout, "已忽略的列（不属于导入模板）：%s\n", strings.Join(s.ignored, "、"))
	}
	if s.rejected > 0 {
		fmt.Fprintf(env.Stdout, "未导入 %d 行：\n", s.rejected)
		for _, e := range s.rowErrs {
			fmt.Fprintf(env.Stdout, "  第 %d 行 %s: %s\n", e.Row, e.Column, e.Message)
		}
		if s.errCount > len(s.rowErrs) {
			fmt.Fprintf(env.Stdout, "  另有 %d 处错误未列出\n", s.errCount-len(s.rowErrs))
		}
	}
}
