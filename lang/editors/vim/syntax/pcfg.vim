" Vim syntax file
" Language: pcfg (.pcfg), the system configuration language of pcfg
" Grammar:  lang/GRAMMAR.md; every token of every example gets a group (tests/editors.rs)

if exists('b:current_syntax')
  finish
endif

syn case match
syn iskeyword @,48-57,_,-

" Lowest priority first: in Vim a later item wins at the same position.
" Any identifier: a symbol in value position, a block label, a path segment; it may start with
" a digit (`1password`), and a number or a size below wins where the whole word is one.
syn match pcfgIdent /[A-Za-z0-9][A-Za-z0-9_-]*/
" A path segment followed by the rest of a path and an operator: a field being set.
syn match pcfgKey /[A-Za-z0-9][A-Za-z0-9_-]*\ze\%(\.[A-Za-z0-9][A-Za-z0-9_-]*\)*\s*\%(+=\|-=\|=\)/
" A block's kind: an identifier that opens a block, with or without a label.
syn match pcfgBlock /[A-Za-z0-9][A-Za-z0-9_-]*\ze\%(\s\+[A-Za-z0-9][A-Za-z0-9_-]*\)\=\s*{/
" A block's label: the identifier between its kind and `{`.
syn match pcfgLabel /\%([A-Za-z0-9][A-Za-z0-9_-]*\s\+\)\@<=[A-Za-z0-9][A-Za-z0-9_-]*\ze\s*{/
syn match pcfgDelimiter /[{}[\],.+]/
syn match pcfgOperator /+=\|-=\|=/
syn match pcfgNumber /\<\%(0x\x\+\|\d\+\)\>/
syn match pcfgSize /\<\d\+\%(\.\d\+\)\=\%(KiB\|MiB\|GiB\|TiB\|K\|M\|G\|T\)\>/
syn keyword pcfgInclude import
syn keyword pcfgStatement remove
syn keyword pcfgDefault default
syn keyword pcfgBoolean true false auto
syn match pcfgEscape contained /\\\%(["\\nt]\|u{\x\{1,6}}\)/
syn region pcfgString start=/"/ skip=/\\\\\|\\"/ end=/"/ oneline contains=pcfgEscape
syn match pcfgComment /#.*$/ contains=@Spell

hi def link pcfgIdent Constant
hi def link pcfgLabel Identifier
hi def link pcfgKey Type
hi def link pcfgBlock Structure
hi def link pcfgDelimiter Delimiter
hi def link pcfgOperator Operator
hi def link pcfgNumber Number
hi def link pcfgSize Number
hi def link pcfgInclude Include
hi def link pcfgStatement Statement
hi def link pcfgDefault Keyword
hi def link pcfgBoolean Boolean
hi def link pcfgEscape SpecialChar
hi def link pcfgString String
hi def link pcfgComment Comment

let b:current_syntax = 'pcfg'
