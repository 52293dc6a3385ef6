package area

import "tongxin/internal/importer"

// ImportSpec is the import file of kind "areas". Headers may be Chinese or
// English; level may be left empty and is then derived from the parent
// (city when there is no parent).
var ImportSpec = importer.Spec{
	Kind: "areas",
	Columns: []importer.Column{
		{Key: "code", Header: "编码", Aliases: []string{"区划代码", "区划编码"}, Required: true, Example: "430203001"},
		{Key: "name", Header: "名称", Aliases: []string{"区划名称"}, Required: true, Example: "建设街道"},
		{Key: "parent_code", Header: "上级编码", Aliases: []string{"上级区划代码", "上级区划编码", "parent"}, Example: "430203"},
		{Key: "level", Header: "层级", Aliases: []string{"级别"}, Example: "街道"},
	},
}
