import Foundation
import Testing
import Jinja

/// The Jinja interpreter construct by construct, so that a regression points at the
/// construct. Every expected output is what Jinja2 3.1 renders with transformers' settings
/// (trim_blocks, lstrip_blocks, sandbox, loopcontrols, transformers' tojson).
struct JinjaInterpreterTests {
    /// A template rendered with `variables` (and no messages).
    static func render(_ source: String, _ variables: [String: JSONValue] = [:]) throws -> String {
        try JinjaTemplate(source: source).renderEmptyChat(addGenerationPrompt: false, extra: variables)
    }

    static func failure(_ source: String, _ variables: [String: JSONValue] = [:]) -> ChatTemplateError? {
        #expect(throws: ChatTemplateError.self, "\(source)") { try render(source, variables) }
    }

    @Test(arguments: [
        ("{{ 1 + 2 * 3 }}", "7"),
        ("{{ (1 + 2) * 3 }}", "9"),
        ("{{ 7 / 2 }} {{ 4 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7.5 % 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }}", "3.5 2.0 3 -4 2 1.5 1024 0.5"),
        ("{{ 1e16 }} {{ 9.1e15 }} {{ 1e-5 }} {{ 0.0001 }} {{ 0.1 + 0.2 }} {{ 10 / 3 }} {{ 1.5e300 * 1 }} {{ -0.0 }}",
         "1e+16 9100000000000000.0 1e-05 0.0001 0.30000000000000004 3.3333333333333335 1.5e+300 -0.0"),
        ("{{ 1_000 + 0x10 + 0o10 + 0b10 }} {{ 1_0.5 }} {{ 2E3 }}", "1026 10.5 2000.0"),
        ("{{ true + 1 }} {{ -true }} {{ +3 }} {{ - 2.5 }}", "2 -1 3 -2.5"),
        ("{{ 'a' + 'b' }} {{ 'ab' * 3 }} {{ 2 * 'x' }} {{ [1] + [2] }} {{ [0] * 3 }} {{ (1,) + (2,) }}", "ab ababab xx [1, 2] [0, 0, 0] (1, 2)"),
        ("{{ 'a' ~ 1 ~ none ~ true ~ 1.0 ~ [1] ~ undefined_name }}", "a1NoneTrue1.0[1]"),
        ("{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 2 >= 2.0 }} {{ 1 != 1.0 }}", "True False True True True False"),
        ("{{ 1 == 1.0 }} {{ true == 1 }} {{ (1, 2) == [1, 2] }} {{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }} {{ none == none }}", "True True False True True"),
        ("{{ 'b' in 'abc' }} {{ 'x' not in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 1 in {1.0: 'a'} }} {{ 'a' in undefined_name }}", "True True True True True False"),
        ("{{ 1 and 'x' }} {{ 0 and 'x' }} {{ '' or 'y' }} {{ 'z' or 'y' }} {{ not 0 }} {{ not not 'a' }}", "x 0 y z True True"),
        ("{{ 'yes' if 1 else 'no' }} {{ 'yes' if 0 else 'no' }} [{{ 'yes' if 0 }}] {{ 'a' if 0 else 'b' if 1 else 'c' }}", "yes no [] b"),
        ("{{ [1, 2, 3][0] }} {{ [1, 2, 3][-1] }} {{ 'héllo'[1] }} {{ {'a': {'b': 5}}['a']['b'] }} {{ {'a': {'b': 5}}.a.b }} {{ [[1, 2]][0].1 }}", "1 3 é 5 5 2"),
        ("{{ [1, 2, 3, 4][1:3] }} {{ [1, 2, 3, 4][::-1] }} {{ [1, 2, 3, 4][::2] }} {{ 'abcdef'[-3:] }} {{ 'abcdef'[:-4] }} {{ (1, 2, 3)[1:] }} {{ [1, 2][5:] }}",
         "[2, 3] [4, 3, 2, 1] [1, 3] def ab (2, 3) []"),
        ("{{ [1, none, true, 1.5, 'a', {'k': (1, 2)}] }} {{ (1,) }} {{ () }} {{ {} }}", "[1, None, True, 1.5, 'a', {'k': (1, 2)}] (1,) () {}"),
        ("{{ [\"it's\", 'say \"hi\"', 'both \\'\"', 'tab\\there', '\\x01'] }}", "[\"it's\", 'say \"hi\"', 'both \\'\"', 'tab\\there', '\\x01']"),
        ("{{ 'a' 'b' }} {{ \"\\u00e9\\n\" }} {{ '\\101\\x42' }} {{ 'back\\\\slash' }} {{ '\\d' }}", "ab é\n AB back\\slash \\d"),
        ("{{ none }} {{ true }} {{ True }} {{ None }} {{ false }}", "None True True None False"),
        ("{{ x }}{{ x is defined }}{{ none.y }}{{ 'abc'.nope }}{{ [1][5] }}{{ {'a': 1}.b }}", "False"),
        ("{{ {'a': 1, 'a': 2} }} {{ {1: 'x', true: 'y', 1.0: 'z'} }}", "{'a': 2} {1: 'z'}"),
        ("{% set a, b = 1, 2 %}{{ a }}{{ b }} {% set c = 1, 2 %}{{ c }}", "12 (1, 2)"),
        ("{{ 5 is divisibleby 5 }} {{ 4 is odd }} {{ 4 is even }}", "True False True"),
    ])
    func expressions(_ source: String, _ expected: String) throws {
        #expect(try Self.render(source) == expected)
    }

    @Test(arguments: [
        // trim_blocks drops the newline after a block tag; lstrip_blocks the indentation before it.
        ("{% if true %}\nyes\n{% endif %}\nend", "yes\nend"),
        ("  {% if true %}\n  x\n  {% endif %}\n  y  {{ 1 }}\n  {#c#}\nz", "  x\n  y  1\nz"),
        // `-` strips all whitespace, newlines included, on its side.
        ("a  \n  {%- if true -%}  \n  b  \n  {%- endif -%}\n  c", "abc"),
        ("a  {{- 1 -}}  b {{ 2 -}}\n\n c {{- 3 }} d", "a1b 2c3 d"),
        // Variables are not lstripped, and the newline after them stays.
        ("x\n    {{ 1 }}\ny", "x\n    1\ny"),
        // `+` keeps what lstrip_blocks and trim_blocks would drop.
        ("  {%+ if true %}x{% endif +%}\ny", "  x\ny"),
        // Comments behave like blocks; `{#-` strips before them.
        ("a\n  {# note #}\nb {#- x -#} c", "a\nbc"),
        // Only one trailing newline of the source is removed.
        ("x\n\n", "x\n"),
        ("line\r\nnext\rlast", "line\nnext\nlast"),
        ("{% raw %}{{ not rendered }}{% endraw %}", "{{ not rendered }}"),
        ("{% for i in [1, 2] %}\n  - {{ i }}\n{% endfor %}\n", "  - 1\n  - 2\n"),
        ("{{ {'a': {'b': 1}} }}", "{'a': {'b': 1}}"),
    ])
    func whitespaceControl(_ source: String, _ expected: String) throws {
        #expect(try Self.render(source) == expected)
    }

    @Test(arguments: [
        ("{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ x }};{% endfor %}",
         "1032TrueFalse3a;2121FalseFalse3b;3210FalseTrue3c;"),
        ("{% for x in [1, 2, 3] %}{{ loop.previtem }}-{{ loop.nextitem }}|{% endfor %}", "-2|1-3|2-|"),
        ("{% for x in [1, 2, 3] %}{{ loop.cycle('a', 'b') }}{% endfor %}", "aba"),
        ("{% for x in [] %}x{% else %}empty{% endfor %}", "empty"),
        ("{% for x in [1, 2, 3, 4] if x is even %}{{ x }}/{{ loop.length }} {% endfor %}", "2/2 4/2 "),
        ("{% for x in [1, 2, 3, 4] if x > 9 %}x{% else %}none{% endfor %}", "none"),
        ("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;"),
        ("{% for k, v in {'a': 1, 'b': 2} | items %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;"),
        ("{% for k in {'b': 1, 'a': 2} %}{{ k }}{% endfor %}", "ba"),
        ("{% for c in 'héllo' %}{{ c }}.{% endfor %}", "h.é.l.l.o."),
        ("{% for x in [1, 2, 3, 4] %}{% if x == 3 %}{% break %}{% endif %}{{ x }}{% endfor %}", "12"),
        ("{% for x in [1, 2, 3, 4] %}{% if x is odd %}{% continue %}{% endif %}{{ x }}{% endfor %}", "24"),
        ("{% for x in [1, 2] %}{% for y in 'ab' %}{{ loop.index }}{{ x }}{{ y }} {% endfor %}{{ loop.index }}|{% endfor %}", "11a 21b 1|12a 22b 2|"),
        ("{% for i in range(3) %}{{ i }}{% endfor %} {% for i in range(1, 10, 4) %}{{ i }}{% endfor %} {% for i in range(3, 0, -1) %}{{ i }}{% endfor %}", "012 159 321"),
        ("{% for x in undefined_name %}x{% else %}nothing{% endfor %}", "nothing"),
        ("{% for a, b in [[1, 2], (3, 4)] %}{{ a + b }} {% endfor %}", "3 7 "),
        ("{% for x in [1, 2] %}{{ loop.changed(x) }}{{ loop.changed(1) }}{% endfor %}", "TrueFalseTrueTrue"),
    ])
    func loops(_ source: String, _ expected: String) throws {
        #expect(try Self.render(source) == expected)
    }

    @Test(arguments: [
        // A loop body is a scope: `set` inside it is gone after the loop and is not seen by
        // the next iteration; `if` shares its scope.
        ("{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = i * 10 %}{{ x }}|{% endfor %}{{ x }}", "110|120|1"),
        ("{% for i in [1, 2] %}{% if true %}{% set y = i %}{% endif %}{{ y }}{% endfor %}[{{ y }}]", "12[]"),
        ("{% if true %}{% set z = 5 %}{% endif %}{{ z }}", "5"),
        // A namespace is how a value leaves a loop.
        ("{% set ns = namespace(count=0, seen=[]) %}{% for i in [1, 2, 3] %}{% set ns.count = ns.count + i %}{% set ns.seen = ns.seen + [i] %}{% endfor %}{{ ns.count }} {{ ns.seen }}", "6 [1, 2, 3]"),
        ("{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns['a'] }}{{ ns.c is defined }}", "121False"),
        ("{% set greeting %}Hello {{ name }}!{% endset %}[{{ greeting }}]", "[Hello World!]"),
        ("{% set text | upper | trim %}  shout  {% endset %}[{{ text }}]", "[SHOUT]"),
        ("{% filter upper %}abc {{ 'def' }}{% endfilter %}", "ABC DEF"),
        ("{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]", "3[]"),
        ("{% set messages = messages + [1] %}{{ messages }}", "[1]"),
        ("{% generation %}{{ 'kept' }}{% endgeneration %}", "kept"),
    ])
    func scoping(_ source: String, _ expected: String) throws {
        #expect(try Self.render(source, ["name": "World"]) == expected)
    }

    @Test(arguments: [
        ("{% macro m(a, b=2) %}[{{ a }},{{ b }}]{% endmacro %}{{ m(1) }}{{ m(1, 3) }}{{ m(1, b=4) }}{{ m() }}", "[1,2][1,3][1,4][,2]"),
        ("{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(5) }}", "120"),
        // A macro sees the template's variables at call time, and its own `set` stays inside it.
        ("{% macro show() %}{% set local = 1 %}{{ late }}{% endmacro %}{% set late = 'L' %}{{ show() }}[{{ local }}]", "L[]"),
        ("{% macro b(x) %}<{{ x }}>{% endmacro %}{% macro a(x) %}{{ b(x ~ '!') }}{% endmacro %}{{ a('hi') }}", "<hi!>"),
        ("{% macro d(a, b=a ~ '2') %}{{ b }}{% endmacro %}{{ d('x') }}", "x2"),
        ("{% set ns = namespace(v=0) %}{% macro bump() %}{% set ns.v = ns.v + 1 %}{% endmacro %}{{ bump() }}{{ bump() }}{{ ns.v }}", "2"),
    ])
    func macros(_ source: String, _ expected: String) throws {
        #expect(try Self.render(source) == expected)
    }

    @Test(arguments: [
        ("{{ '  a b  ' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ undefined_name | trim }}|{{ 5 | trim }}", "a b|a||5"),
        ("{{ 'héllo wörld-foo(bar' | title }} {{ 'aBC dEF' | capitalize }} {{ 'Ab' | upper }}{{ 'Ab' | lower }}", "Héllo Wörld-Foo(Bar Abc def ABab"),
        ("{{ [1, 2] | length }} {{ 'héllo' | length }} {{ {'a': 1} | count }} {{ undefined_name | length }}", "2 5 1 0"),
        ("{{ undefined_name | default('d') }} {{ none | default('d') }} {{ '' | default('d', true) }} {{ 0 | d('z') }}", "d None d 0"),
        ("{{ [3, 1, 2] | first }}{{ [3, 1, 2] | last }}{{ 'abc' | first }} [{{ [] | first }}]", "32a []"),
        ("{{ [1, 2] | join(', ') }}|{{ ['a', 'b'] | join }}|{{ [{'n': 'x'}, {'n': 'y'}] | join('-', attribute='n') }}", "1, 2|ab|x-y"),
        ("{{ 'abc' | list }} {{ (1, 2) | list }} {{ {'a': 1} | list }} {{ 'abc' | reverse }} {{ [1, 2] | reverse | list }}", "['a', 'b', 'c'] [1, 2] ['a'] cba [2, 1]"),
        ("{{ {'b': 1, 'a': 2} | items | list }} {{ {'b': 1, 'a': 2} | dictsort }} {{ {'b': 1, 'a': 2} | dictsort(by='value', reverse=true) }}",
         "[('b', 1), ('a', 2)] [('a', 2), ('b', 1)] [('a', 2), ('b', 1)]"),
        ("{{ [3, 1, 2] | sort }} {{ ['b', 'A', 'a'] | sort }} {{ ['b', 'A', 'a'] | sort(case_sensitive=true) }} {{ [3, 1, 2] | sort(reverse=true) }}",
         "[1, 2, 3] ['A', 'a', 'b'] ['A', 'a', 'b'] [3, 2, 1]"),
        ("{{ [{'n': 2, 'm': 'b'}, {'n': 1, 'm': 'a'}] | sort(attribute='n') | map(attribute='m') | join }}", "ab"),
        ("{{ ['a', 'A', 'b', 'a'] | unique | list }} {{ [1, 2, 1] | unique | list }}", "['a', 'b'] [1, 2]"),
        ("{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('odd') | list }} {{ [0, 1, '', 'a'] | select | list }} {{ [1, 5, 9] | select('>', 3) | list }}",
         "[1, 3] [2, 4] [1, 'a'] [5, 9]"),
        ("{{ [{'r': 'user'}, {'r': 'tool'}, {}] | selectattr('r', 'equalto', 'user') | list }} {{ [{'r': 'user'}, {}] | rejectattr('r') | list }} {{ [{'r': 1}, {}] | selectattr('r', 'defined') | list | length }}",
         "[{'r': 'user'}] [{}] 1"),
        ("{{ [{'a': 1}, {'b': 2}] | map(attribute='a') | list }} {{ [{'a': 1}, {'b': 2}] | map(attribute='a', default=0) | list }} {{ ['a', 'b'] | map('upper') | list }} {{ [{'f': {'n': 'x'}}] | map(attribute='f.n') | list }}",
         "[1, Undefined] [1, 0] ['A', 'B'] ['x']"),
        ("{{ [1, 2, 3] | sum }} {{ [{'v': 1}, {'v': 2}] | sum(attribute='v') }} {{ [1, 3, 2] | max }} {{ ['b', 'A'] | min }} {{ [] | max is defined }}", "6 3 3 A False"),
        ("{{ 'a-b-a' | replace('a', 'x') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 'ab' | replace('', '.') }}", "x-b-x bba .a.b."),
        ("{{ 3.7 | int }} {{ '42' | int }} {{ 'x' | int }} {{ '3.5' | int }} {{ ' 0x1F ' | int(base=16) }} {{ '12' | float }} {{ 'x' | float(1.5) }}", "3 42 0 3 31 12.0 1.5"),
        ("{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 2.5 | round(0, 'floor') }} {{ 2.1 | round(0, 'ceil') }} {{ 7 | round }}", "2.0 4.0 2.67 2.0 3.0 7"),
        ("{{ 'x' | indent(2) }}|{{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}|{{ 'a\n\nb\n' | indent(2, blank=true) }}|{{ 'a\nb' | indent('> ') }}",
         "x|a\n  b\n\n  c|  a\n  b|a\n  \n  b\n  |a\n> b"),
        ("{{ '%s-%d' | format('a', 3) }} {{ '%(k)s!' | format(k='v') }} {{ 'x%s' % 1 }} {{ '%5.2f|%-4d|%04d' % (3.14159, 7, 42) }} {{ '%r' % 'q' }}", "a-3 v! x1  3.14|7   |0042 'q'"),
        ("{{ 'abc' | center(7) }}|{{ 'hello world foo' | truncate(9, leeway=0) }}|{{ 'hello world' | truncate(8, true, leeway=0) }}|{{ 'one two  three' | wordcount }}", "  abc  |hello...|hello...|3"),
        ("{{ -3 | abs }} {{ 'x' | attr('upper') is defined }} {{ {'k': 1} | attr('k') is defined }}", "3 True False"),
        // Found by differential fuzzing against Jinja2:
        ("{{ {'k': 1} | truncate(5, leeway=0) }} {{ 'a' % [] }} {{ 'a' % x }} {{ x in {'k': 1} }}", "{'k': 1} a a False"),
        ("{{ 'x' | string }}{{ 1 | string }}{{ [1] | string }} {{ '<a>' | escape }} {{ ('<b>' | safe) + '<i>' }}", "x1[1] &lt;a&gt; <b>&lt;i&gt;"),
    ])
    func filters(_ source: String, _ expected: String) throws {
        #expect(try Self.render(source) == expected)
    }

    @Test(arguments: [
        ("{{ {'a': [1, {'b': []}, {}], 'é': 1.5, 'n': none, 't': true} | tojson }}", "{\"a\": [1, {\"b\": []}, {}], \"é\": 1.5, \"n\": null, \"t\": true}"),
        ("{{ {'a': [1, {}]} | tojson(indent=2) }}", "{\n  \"a\": [\n    1,\n    {}\n  ]\n}"),
        ("{{ 'é\n\"\\\\' | tojson }} {{ 'é😀' | tojson(ensure_ascii=true) }} {{ '\\x7f\\x01' | tojson }}", "\"é\\n\\\"\\\\\" \"\\u00e9\\ud83d\\ude00\" \"\u{7F}\\u0001\""),
        ("{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }} {{ {'a': 1} | tojson(separators=(',', ':')) }} {{ [1, 2] | tojson(indent='\t') }}", "{\"a\": 2, \"b\": 1} {\"a\":1} [\n\t1,\n\t2\n]"),
        ("{{ {1: 2, none: 3, true: 4, 1.5: 5} | tojson }} {{ (1, 2) | tojson }} {{ 1e20 | tojson }} {{ 1.0 | tojson }}", "{\"1\": 4, \"null\": 3, \"1.5\": 5} [1, 2] 1e+20 1.0"),
    ])
    func tojson(_ source: String, _ expected: String) throws {
        #expect(try Self.render(source) == expected)
    }

    @Test(arguments: [
        ("{{ x is defined }}{{ x is undefined }}{{ none is none }}{{ none is defined }}{{ x is none }}", "FalseTrueTrueTrueFalse"),
        ("{{ 'a' is string }}{{ 1 is string }}{{ {} is mapping }}{{ [] is mapping }}{{ 1 is number }}{{ true is number }}{{ 1.5 is float }}{{ 1 is integer }}{{ true is integer }}", "TrueFalseTrueFalseTrueTrueTrueTrueFalse"),
        ("{{ 'a' is iterable }}{{ [] is iterable }}{{ 1 is iterable }}{{ x is iterable }}{{ none is iterable }}{{ {} is sequence }}{{ 1 is sequence }}", "TrueTrueFalseTrueFalseTrueFalse"),
        ("{{ true is boolean }}{{ 1 is boolean }}{{ false is false }}{{ 0 is false }}{{ true is true }}{{ 'Ab' is lower }}{{ 'ab' is lower }}{{ 'AB' is upper }}", "TrueFalseTrueFalseTrueFalseTrueTrue"),
        ("{{ 1 is in [1, 2] }}{{ 3 is in [1, 2] }}{{ 2 is equalto 2 }}{{ 2 is eq 3 }}{{ 2 is ne 3 }}{{ 2 is lt 3 }}{{ 2 is ge 3 }}{{ 3 is gt 2 }}", "TrueFalseTrueFalseTrueTrueFalseTrue"),
        ("{{ none is sameas none }}{{ 'upper' is filter }}{{ 'odd' is test }}{{ range is callable }}{{ 'x' is callable }}{{ ('a' | safe) is escaped }}", "TrueTrueTrueTrueFalseTrue"),
        ("{{ x is not defined }}{{ not x is defined }}{{ 1 is not string }}", "TrueTrueTrue"),
    ])
    func tests(_ source: String, _ expected: String) throws {
        #expect(try Self.render(source) == expected)
    }

    @Test(arguments: [
        ("{{ '  a  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  a  '.lstrip() }}|{{ '  a  '.rstrip() }}|{{ 'a\u{A0}'.strip() }}", "a|a|a  |  a|a"),
        ("{{ '  a b  '.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a b c'.split(None, 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ 'a b  c '.split(None, 1) }}",
         "['a', 'b'] ['a', 'b', '', 'c'] ['a', 'b c'] ['a,b', 'c'] ['a', 'b  c ']"),
        ("{{ 'x</think>y</think>z'.split('</think>')[-1] }} {{ 'abc'.startswith('ab') }} {{ 'abc'.startswith(('x', 'a')) }} {{ 'abc'.endswith('bc') }}", "z True True True"),
        ("{{ 'Ab'.upper() }}{{ 'Ab'.lower() }} {{ \"they're bill's\".title() }} {{ 'hELLO'.capitalize() }}", "ABab They'Re Bill'S Hello"),
        ("{{ 'a b'.replace(' ', '') }} {{ 'aaa'.replace('a', 'b', 2) }} {{ 'abcabc'.find('c') }} {{ 'abcabc'.rfind('c') }} {{ 'abc'.find('z') }} {{ 'aXbX'.count('X') }}", "ab bba 2 5 -1 2"),
        ("{{ ', '.join(['a', 'b']) }} {{ '{} and {}'.format(1, 'b') }} {{ '{x}!'.format(x=2) }} {{ '{0}{0}'.format('r') }} {{ 'a\nb\r\nc'.splitlines() }}", "a, b 1 and b 2! rr ['a', 'b', 'c']"),
        ("{{ '12'.isdigit() }}{{ 'a1'.isdigit() }}{{ 'ab'.isalpha() }}{{ ' '.isspace() }}{{ 'ab'.islower() }}{{ 'AB'.isupper() }}", "TrueFalseTrueTrueTrueTrue"),
        ("{{ {'a': 1}.get('a') }} {{ {'a': 1}.get('b') }} {{ {'a': 1}.get('b', 0) }} {{ {'a': 1, 'b': 2}.keys() | list }} {{ {'a': 1}.values() | list }}", "1 None 0 ['a', 'b'] [1]"),
        ("{{ [1, 2, 1].count(1) }} {{ [1, 2].index(2) }} {{ (1, 1).count(1) }}", "2 1 2"),
        // `.items` on a dict is the method, even when the dict has an "items" key.
        ("{{ {'items': 5}.items is defined }}{{ {'items': 5}['items'] }}", "True5"),
    ])
    func methods(_ source: String, _ expected: String) throws {
        #expect(try Self.render(source) == expected)
    }

    @Test func generatorsBehaveLikePython() throws {
        // Jinja2's map/select return generators: always true, single pass, no length, no JSON.
        #expect(try Self.render("{{ 'yes' if [] | select else 'no' }}") == "yes")
        #expect(try Self.render("{% set g = [1, 2] | map('string') %}{{ g | join }}{{ g | join }}") == "12")
        #expect(try Self.render("{% set g = [1, 2, 3] | select %}{{ g | first }}{{ g | list }}") == "1[2, 3]")
        #expect(Self.failure("{{ [1] | select | length }}")?.message == "object of type 'generator' has no len()")
        #expect(Self.failure("{{ [1] | map('int') | tojson }}")?.message == "Object of type generator is not JSON serializable")
    }

    @Test func stringsAreCodePoints() throws {
        // Python indexes code points: "e" + combining acute is two characters.
        let decomposed = "e\u{301}"
        #expect(try Self.render("{{ s | length }} {{ s[0] }} {{ s == t }}", ["s": .string(decomposed), "t": "\u{E9}"]) == "2 e False")
    }

    @Test func undefinedFailsWhenUsed() throws {
        #expect(Self.failure("{{ x.y }}")?.message == "'x' is undefined")
        #expect(Self.failure("{{ x['y'] }}")?.message == "'x' is undefined")
        #expect(Self.failure("{{ {'a': 1}.b.c }}")?.message == "'dict object' has no attribute 'b'")
        #expect(Self.failure("{{ messages[0]['role'] }}")?.message == "list object has no element 0")
        #expect(Self.failure("{{ 'a' + x }}")?.message == "'x' is undefined")
        #expect(Self.failure("{{ x() }}")?.message == "'x' is undefined")
        #expect(Self.failure("{{ x | tojson }}")?.message == "Object of type Undefined is not JSON serializable")
        #expect(Self.failure("{% macro m(p) %}{{ p.q }}{% endmacro %}{{ m() }}")?.message == "parameter 'p' was not provided")
    }

    @Test func typeErrorsAreReported() throws {
        #expect(Self.failure("{{ 'a' < 1 }}")?.message == "'<' not supported between instances of 'str' and 'int'")
        #expect(Self.failure("{{ none + 1 }}")?.message == "unsupported operand type(s) for +: 'NoneType' and 'int'")
        #expect(Self.failure("{{ 'a' + 1 }}")?.message == "can only concatenate str (not \"int\") to str")
        #expect(Self.failure("{{ 1 in 'a' }}")?.message == "'in <string>' requires string as left operand, not int")
        #expect(Self.failure("{% for x in none %}{% endfor %}")?.message == "'NoneType' object is not iterable")
        #expect(Self.failure("{% for a, b in [(1, 2), (3,)] %}{% endfor %}")?.message == "not enough values to unpack (expected 2, got 1)")
        #expect(Self.failure("{{ 1 / 0 }}")?.message == "division by zero")
        #expect(Self.failure("{{ [].append(1) }}")?.message == "access to attribute 'append' of 'list' object is unsafe.")
        #expect(Self.failure("{{ {}.update({}) }}")?.message == "access to attribute 'update' of 'dict' object is unsafe.")
        #expect(Self.failure("{{ range(100001) | length }}")?.message == "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).")
        #expect(Self.failure("{% set ns = namespace() %}{% set ns._hidden = 1 %}")?.message.hasPrefix("Chat templates cannot store underscore-prefixed") == true)
        #expect(Self.failure("{{ 9223372036854775807 + 1 }}")?.kind == .render)
        // Slices are plain Python subscripts in Jinja2, not its forgiving item lookup.
        #expect(Self.failure("{% set b = true %}{{ b[1:] }}")?.message == "'bool' object is not subscriptable")
        #expect(Self.failure("{% set d = {} %}{{ d[1:] }}")?.message == "unhashable type: 'slice'")
        #expect(Self.failure("{{ x | int }}")?.message == "'x' is undefined")
        #expect(Self.failure("{{ x | float }}")?.message == "'x' is undefined")
        #expect(Self.failure("{{ true | truncate }}")?.message == "object of type 'bool' has no len()")
        #expect(Self.failure("{{ 2.0 ** 10000 }}")?.message == "(34, 'Numerical result out of range')")
    }

    @Test func raiseExceptionCarriesTheMessage() throws {
        let error = Self.failure("line one\n{{ raise_exception('no system role') }}")
        #expect(error?.kind == .raised)
        #expect(error?.message == "no system role")
        #expect(error?.line == 2)
    }

    @Test func strftimeNowIsInjectable() throws {
        var components = DateComponents()
        (components.year, components.month, components.day, components.hour, components.minute, components.second) = (2024, 7, 26, 8, 5, 9)
        let date = try #require(Calendar.current.date(from: components))
        let template = try JinjaTemplate(source: "{{ strftime_now('%d %b %Y %H:%M:%S') }}|{{ strftime_now('%Y-%m-%dT%H%z%Z') }}")
        #expect(try template.renderEmptyChat(now: date) == "26 Jul 2024 08:05:09|2024-07-26T08")
    }
}

