package tgfake

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// utf16Len counts UTF-16 code units, the unit of Telegram's length limits
// and entity offsets.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if l := utf16.RuneLen(r); l > 0 {
			n += l
		} else {
			n++
		}
	}
	return n
}

func parseErr(format string, args ...any) *apiError {
	return badRequest("can't parse entities: " + fmt.Sprintf(format, args...))
}

// render applies parse_mode: it returns the plain text the user sees and the
// formatting entities, or the Bot API parse error.
func render(raw, mode string) (string, []models.MessageEntity, *apiError) {
	switch strings.ToLower(mode) {
	case "":
		return raw, nil, nil
	case "html":
		return parseHTML(raw)
	case "markdownv2":
		return parseMarkdownV2(raw)
	case "markdown":
		return parseMarkdown(raw)
	}
	return "", nil, badRequest("unsupported parse_mode")
}

// textBuilder accumulates plain text and tracks its UTF-16 length.
type textBuilder struct {
	sb   strings.Builder
	pos  int
	ents []models.MessageEntity
}

func (b *textBuilder) writeRune(r rune) {
	b.sb.WriteRune(r)
	if l := utf16.RuneLen(r); l > 0 {
		b.pos += l
	} else {
		b.pos++
	}
}

func (b *textBuilder) writeString(s string) {
	for _, r := range s {
		b.writeRune(r)
	}
}

func (b *textBuilder) entity(t models.MessageEntityType, start int, url, lang string) {
	if b.pos > start {
		b.ents = append(b.ents, models.MessageEntity{Type: t, Offset: start, Length: b.pos - start, URL: url, Language: lang})
	}
}

func (b *textBuilder) result() (string, []models.MessageEntity, *apiError) {
	sort.SliceStable(b.ents, func(i, j int) bool {
		if b.ents[i].Offset != b.ents[j].Offset {
			return b.ents[i].Offset < b.ents[j].Offset
		}
		return b.ents[i].Length > b.ents[j].Length
	})
	return b.sb.String(), b.ents, nil
}

var htmlTags = map[string]models.MessageEntityType{
	"b": models.MessageEntityTypeBold, "strong": models.MessageEntityTypeBold,
	"i": models.MessageEntityTypeItalic, "em": models.MessageEntityTypeItalic,
	"u": models.MessageEntityTypeUnderline, "ins": models.MessageEntityTypeUnderline,
	"s": models.MessageEntityTypeStrikethrough, "strike": models.MessageEntityTypeStrikethrough,
	"del":        models.MessageEntityTypeStrikethrough,
	"tg-spoiler": models.MessageEntityTypeSpoiler, "span": models.MessageEntityTypeSpoiler,
	"a":          models.MessageEntityTypeTextLink,
	"code":       models.MessageEntityTypeCode,
	"pre":        models.MessageEntityTypePre,
	"blockquote": models.MessageEntityTypeBlockquote,
	"tg-emoji":   models.MessageEntityTypeCustomEmoji,
}

// htmlAttr extracts attribute name from a tag body such as `a href="x"`.
func htmlAttr(body, name string) (string, bool) {
	lower := strings.ToLower(body)
	i := strings.Index(lower, name+"=")
	if i < 0 {
		return "", false
	}
	v := body[i+len(name)+1:]
	if v == "" {
		return "", true
	}
	if q := v[0]; q == '"' || q == '\'' {
		if j := strings.IndexByte(v[1:], q); j >= 0 {
			return decodeHTMLEntities(v[1 : 1+j]), true
		}
		return v[1:], true
	}
	if j := strings.IndexAny(v, " \t\n"); j >= 0 {
		v = v[:j]
	}
	return v, true
}

func decodeHTMLEntities(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b textBuilder
	for i := 0; i < len(s); {
		if r, n := htmlEntity(s[i:]); n > 0 {
			b.writeRune(r)
			i += n
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		b.writeRune(r)
		i += n
	}
	return b.sb.String()
}

// htmlEntity decodes a character reference at the start of s.
func htmlEntity(s string) (rune, int) {
	if len(s) < 3 || s[0] != '&' {
		return 0, 0
	}
	end := strings.IndexByte(s, ';')
	if end < 2 || end > 12 {
		return 0, 0
	}
	name := s[1:end]
	switch name {
	case "lt":
		return '<', end + 1
	case "gt":
		return '>', end + 1
	case "amp":
		return '&', end + 1
	case "quot":
		return '"', end + 1
	case "apos":
		return '\'', end + 1
	case "nbsp":
		return '\u00a0', end + 1
	}
	if name[0] == '#' {
		var v uint64
		var err error
		if len(name) > 1 && (name[1] == 'x' || name[1] == 'X') {
			v, err = strconv.ParseUint(name[2:], 16, 32)
		} else {
			v, err = strconv.ParseUint(name[1:], 10, 32)
		}
		if err == nil && utf8.ValidRune(rune(v)) {
			return rune(v), end + 1
		}
	}
	return 0, 0
}

// parseHTML implements the Bot API HTML parse mode: supported tags only,
// properly nested, character references decoded.
func parseHTML(s string) (string, []models.MessageEntity, *apiError) {
	type open struct {
		name, url, lang string
		start           int
	}
	var b textBuilder
	var stack []open
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				return "", nil, parseErr("Unclosed start tag at byte offset %d", i)
			}
			body := s[i+1 : i+j]
			if strings.HasPrefix(body, "/") {
				name := strings.ToLower(strings.TrimSpace(body[1:]))
				if len(stack) == 0 {
					return "", nil, parseErr("Unexpected end tag at byte offset %d", i)
				}
				top := stack[len(stack)-1]
				if name != top.name && name != "" {
					return "", nil, parseErr("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, top.name, name)
				}
				stack = stack[:len(stack)-1]
				switch top.name {
				case "a":
					if top.url != "" {
						b.entity(models.MessageEntityTypeTextLink, top.start, top.url, "")
					}
				case "pre":
					b.entity(models.MessageEntityTypePre, top.start, "", top.lang)
				case "tg-emoji":
					// custom emoji need an id; not modelled further
				default:
					b.entity(htmlTags[top.name], top.start, "", "")
				}
			} else {
				name := body
				if k := strings.IndexAny(body, " \t\n/"); k >= 0 {
					name = body[:k]
				}
				name = strings.ToLower(name)
				if _, ok := htmlTags[name]; !ok {
					return "", nil, parseErr("Unsupported start tag \"%s\" at byte offset %d", name, i)
				}
				o := open{name: name, start: b.pos}
				switch name {
				case "a":
					o.url, _ = htmlAttr(body, "href")
				case "span":
					if cls, _ := htmlAttr(body, "class"); cls != "tg-spoiler" {
						return "", nil, parseErr("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", i)
					}
				case "code":
					if cls, ok := htmlAttr(body, "class"); ok && len(stack) > 0 && stack[len(stack)-1].name == "pre" {
						stack[len(stack)-1].lang = strings.TrimPrefix(cls, "language-")
					}
				}
				stack = append(stack, o)
			}
			i += j + 1
		case '&':
			if r, n := htmlEntity(s[i:]); n > 0 {
				b.writeRune(r)
				i += n
				continue
			}
			b.writeRune('&')
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			b.writeRune(r)
			i += n
		}
	}
	if len(stack) > 0 {
		return "", nil, parseErr("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1].name)
	}
	return b.result()
}

const mdv2Reserved = "_*[]()~`>#+-=|{}.!"

// parseMarkdownV2 implements the MarkdownV2 parse mode including the rule
// that every reserved character outside markup must be escaped with '\'.
func parseMarkdownV2(s string) (string, []models.MessageEntity, *apiError) {
	type open struct {
		marker string
		start  int
		offset int
	}
	names := map[string]string{"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough", "||": "Spoiler", "[": "TextUrl"}
	types := map[string]models.MessageEntityType{
		"*": models.MessageEntityTypeBold, "_": models.MessageEntityTypeItalic, "__": models.MessageEntityTypeUnderline,
		"~": models.MessageEntityTypeStrikethrough, "||": models.MessageEntityTypeSpoiler,
	}
	var b textBuilder
	var stack []open
	toggle := func(marker string, at int) {
		for k := len(stack) - 1; k >= 0; k-- {
			if stack[k].marker == marker {
				b.entity(types[marker], stack[k].start, "", "")
				stack = append(stack[:k], stack[k+1:]...)
				return
			}
		}
		stack = append(stack, open{marker: marker, start: b.pos, offset: at})
	}
	// readUntil reads code content up to the closing delimiter, honouring
	// backslash escapes; it returns the content and the index after it.
	readUntil := func(from int, delim string) (string, int, bool) {
		var sb strings.Builder
		for k := from; k < len(s); {
			if s[k] == '\\' && k+1 < len(s) {
				sb.WriteByte(s[k+1])
				k += 2
				continue
			}
			if strings.HasPrefix(s[k:], delim) {
				return sb.String(), k + len(delim), true
			}
			sb.WriteByte(s[k])
			k++
		}
		return "", 0, false
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) {
				return "", nil, parseErr("Character '\\' is reserved and must be escaped with the preceding '\\'")
			}
			r, n := utf8.DecodeRuneInString(s[i+1:])
			b.writeRune(r)
			i += 1 + n
		case strings.HasPrefix(s[i:], "```"):
			content, next, ok := readUntil(i+3, "```")
			if !ok {
				return "", nil, parseErr("Can't find end of Pre entity at byte offset %d", i)
			}
			lang := ""
			if nl := strings.IndexByte(content, '\n'); nl >= 0 && !strings.ContainsAny(content[:nl], " \t") {
				lang, content = content[:nl], content[nl+1:]
			}
			start := b.pos
			b.writeString(content)
			b.entity(models.MessageEntityTypePre, start, "", lang)
			i = next
		case c == '`':
			content, next, ok := readUntil(i+1, "`")
			if !ok {
				return "", nil, parseErr("Can't find end of Code entity at byte offset %d", i)
			}
			start := b.pos
			b.writeString(content)
			b.entity(models.MessageEntityTypeCode, start, "", "")
			i = next
		case strings.HasPrefix(s[i:], "||"):
			toggle("||", i)
			i += 2
		case strings.HasPrefix(s[i:], "__"):
			toggle("__", i)
			i += 2
		case c == '*' || c == '_' || c == '~':
			toggle(string(c), i)
			i++
		case c == '[':
			stack = append(stack, open{marker: "[", start: b.pos, offset: i})
			i++
		case c == ']' && len(stack) > 0 && stack[len(stack)-1].marker == "[":
			top := stack[len(stack)-1]
			if i+1 >= len(s) || s[i+1] != '(' {
				return "", nil, parseErr("Character ']' is reserved and must be escaped with the preceding '\\'")
			}
			url, next, ok := readUntil(i+2, ")")
			if !ok {
				return "", nil, parseErr("Can't find end of a URL at byte offset %d", i+1)
			}
			stack = stack[:len(stack)-1]
			b.entity(models.MessageEntityTypeTextLink, top.start, url, "")
			i = next
		case c == '>' && (i == 0 || s[i-1] == '\n'):
			i++ // blockquote marker
		case strings.IndexByte(mdv2Reserved, c) >= 0:
			return "", nil, parseErr("Character '%c' is reserved and must be escaped with the preceding '\\'", c)
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			b.writeRune(r)
			i += n
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return "", nil, parseErr("Can't find end of %s entity at byte offset %d", names[top.marker], top.offset)
	}
	return b.result()
}

// parseMarkdown implements the legacy Markdown parse mode.
func parseMarkdown(s string) (string, []models.MessageEntity, *apiError) {
	var b textBuilder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && strings.IndexByte("_*`[", s[i+1]) >= 0:
			b.writeRune(rune(s[i+1]))
			i += 2
		case c == '*' || c == '_' || c == '`':
			delim := string(c)
			t := map[byte]models.MessageEntityType{'*': models.MessageEntityTypeBold, '_': models.MessageEntityTypeItalic, '`': models.MessageEntityTypeCode}[c]
			if strings.HasPrefix(s[i:], "```") {
				delim, t = "```", models.MessageEntityTypePre
			}
			end := strings.Index(s[i+len(delim):], delim)
			if end < 0 {
				return "", nil, parseErr("Can't find end of the entity starting at byte offset %d", i)
			}
			start := b.pos
			b.writeString(s[i+len(delim) : i+len(delim)+end])
			b.entity(t, start, "", "")
			i += 2*len(delim) + end
		case c == '[':
			close := strings.Index(s[i:], "](")
			if close < 0 {
				return "", nil, parseErr("Can't find end of the entity starting at byte offset %d", i)
			}
			endURL := strings.IndexByte(s[i+close+2:], ')')
			if endURL < 0 {
				return "", nil, parseErr("Can't find end of the entity starting at byte offset %d", i)
			}
			start := b.pos
			b.writeString(s[i+1 : i+close])
			b.entity(models.MessageEntityTypeTextLink, start, s[i+close+2:i+close+2+endURL], "")
			i += close + 2 + endURL + 1
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			b.writeRune(r)
			i += n
		}
	}
	return b.result()
}
