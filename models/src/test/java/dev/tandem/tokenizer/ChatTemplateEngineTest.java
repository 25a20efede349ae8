package dev.tandem.tokenizer;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The jinja2 behaviours chat templates rely on, each checked against the text jinja2 gives for it. */
class ChatTemplateEngineTest {
    static final Clock FIXED = Clock.fixed(Instant.parse("2026-11-28T09:30:00Z"), ZoneOffset.UTC);
    static final List<ChatTemplate.Message> CONVERSATION = List.of(
            new ChatTemplate.Message("system", "  Be brief.  "),
            new ChatTemplate.Message("user", "<think>plan</think>\n\nHéllo wörld"));

    private static String render(String source) {
        return render(source, CONVERSATION, true);
    }

    private static String render(String source, List<ChatTemplate.Message> messages, boolean generationPrompt) {
        return new JinjaChatTemplate(source, "<s>", "</s>", "test", FIXED).render(messages, generationPrompt);
    }

    private static void check(String expected, String source) {
        assertEquals(expected, render(source), () -> "template: " + source);
    }

    @Test
    void notBindsLooserThanTestsAndComparisons() {
        check("yes", "{% if not tools is defined %}yes{% endif %}");
        check("yes", "{% if not messages|length == 3 %}yes{% endif %}");
        check("no", "{% if not add_generation_prompt and true %}yes{% else %}no{% endif %}");
        check("yes", "{% if messages[0].role is not none and not (1 == 2) %}yes{% endif %}");
    }

    @Test
    void keywordArgumentTakesWholeExpression() {
        check("1|True", "{% set ns = namespace(last=messages|length - 1, flag=true) %}{{ ns.last }}|{{ 'True' if ns.flag }}");
        check("0", "{% set ns = namespace(i=0) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.i = loop.index0 - 1 %}{% endif %}{% endfor %}{{ ns.i }}");
    }

    @Test
    void pythonSlicesAndNegativeIndices() {
        check("user,system", "{{ (messages[::-1] | map(attribute='role') | join(',')) }}");
        check("user", "{{ messages[-1].role }}");
        check("user", "{{ messages[1:][0].role }}");
        check("ser", "{{ messages[-1].role[1:] }}");
        check("use", "{{ messages[-1].role[:-1] }}");
        check("res", "{{ messages[-1].role[::-1][:3] }}");
        check("ue", "{{ 'user'[::2] }}");
        check("", "{{ 'user'[10:] }}");
    }

    @Test
    void pythonStringMethods() {
        check("[Be brief.]", "[{{ messages[0].content.strip() }}]");
        check("[Be brief.  ]", "[{{ messages[0].content.lstrip() }}]");
        check("[  Be brief.]", "[{{ messages[0].content.rstrip() }}]");
        check("Héllo wörld", "{{ messages[1].content.split('</think>')[-1].lstrip('\\n') }}");
        check("plan", "{{ messages[1].content.split('</think>')[0].split('<think>')[-1] }}");
        check("True False True", "{{ 'True' if messages[1].content.startswith('<think>') else 'False' }} "
                + "{{ 'True' if messages[1].content.endswith('plan') else 'False' }} "
                + "{{ 'True' if messages[1].content.endswith(('x', 'wörld')) else 'False' }}");
        check("USER|System Prompt|a-b", "{{ 'user'.upper() }}|{{ 'sYSTEM pROMPT'.title() }}|{{ 'a b'.replace(' ', '-') }}");
        check("a,b,c|3", "{{ '  a  b\\tc '.split() | join(',') }}|{{ 'a,,b'.split(',') | length }}");
        check("xx", "{{ 'xxyy'.rstrip('y') }}");
    }

    @Test
    void stringOperators() {
        check("yes", "{% if '</think>' in messages[1].content %}yes{% endif %}");
        check("Be brief.!", "{{ messages[0].content | trim + '!' }}");
        check("no", "{% if 'zzz' not in messages[1].content %}no{% endif %}");
    }

    @Test
    void dictMethodsAndTests() {
        check("role=system;content=  Be brief.  ;", "{% for k, v in messages[0].items() %}{{ k }}={{ v }};{% endfor %}");
        check("system|fallback", "{{ messages[0].get('role') }}|{{ messages[0].get('tool_calls', 'fallback') }}");
        check("string mapping", "{% if messages[0].content is string %}string{% endif %} {% if messages[0] is mapping %}mapping{% endif %}");
        check("no", "{% if 'tool_calls' in messages[0] %}yes{% else %}no{% endif %}");
        check("yes", "{% if 'role' in messages[0] %}yes{% else %}no{% endif %}");
    }

    @Test
    void loopVariablesAndLoopControls() {
        check("0:system,1:user.", "{% for m in messages %}{{ loop.index0 }}:{{ m.role }}{{ '.' if loop.last else ',' }}{% endfor %}");
        check("system", "{% for m in messages %}{% if loop.index0 == 1 %}{% break %}{% endif %}{{ m.role }}{% endfor %}");
        check("user", "{% for m in messages %}{% if loop.first %}{% continue %}{% endif %}{{ m.role }}{% endfor %}");
    }

    @Test
    void tojsonLikeTransformers() {
        check("{\"role\": \"user\", \"content\": \"<think>plan</think>\\n\\nHéllo wörld\"}", "{{ messages[1] | tojson }}");
        check("{\n    \"role\": \"system\",\n    \"content\": \"  Be brief.  \"\n}", "{{ messages[0] | tojson(indent=4) }}");
        check("[1, 2.5, true, null, [], {}]", "{{ [1, 2.5, true, none, [], {}] | tojson }}");
    }

    @Test
    void whitespaceControlTrimBlocksAndLstripBlocks() {
        check("A\nB\n", "{% if true %}\n  {% if true %}\nA\n  {% endif %}\nB\n{% endif %}\n");
        check("a b", "a  {{- ' ' -}}  {#- note -#}  b");
        check("a b|\n  c", "{% if true %}a{% endif %} {% if true %}b{% endif %}|\n  {%+ if true %}c{% endif %}");
        check("x\n", "  {% set y = 1 %}\nx\n");
    }

    @Test
    void strftimeNowReadsTheInjectedClock() {
        check("28 Nov 2026|November 28, 2026|2026-11-28|Saturday|9", "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%B %d, %Y') }}|"
                + "{{ strftime_now('%Y-%m-%d') }}|{{ strftime_now('%A') }}|{{ strftime_now('%-H') }}");
        check("defined", "{% if strftime_now is defined %}defined{% endif %}");
    }

    @Test
    void specialTokensAndUndefinedTools() {
        check("<s>|</s>|none", "{{ bos_token }}|{{ eos_token }}|{{ 'none' if tools is not defined }}");
        assertEquals("[]", new JinjaChatTemplate("[{{ bos_token }}]", null, null, "t", FIXED).render(CONVERSATION, true));
    }

    @Test
    void raiseExceptionSurfacesItsMessage() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> render(
                "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{{ m.content }}{% endfor %}"));
        assertEquals("System role not supported", e.getMessage());
        assertTrue(e.raisedByTemplate());
    }

    @Test
    void unrenderableConstructIsAClearError() {
        ChatTemplateException unknownMethod = assertThrows(ChatTemplateException.class,
                () -> render("{{ messages[0].content.casefold() }}"));
        assertFalse(unknownMethod.raisedByTemplate());
        assertTrue(unknownMethod.getMessage().contains("casefold"), unknownMethod.getMessage());
        assertTrue(unknownMethod.getMessage().startsWith("chat template test cannot be rendered: "), unknownMethod.getMessage());

        ChatTemplateException unknownTag = assertThrows(ChatTemplateException.class,
                () -> render("{% for m in messages %}{% generation %}{{ m.content }}{% endgeneration %}{% endfor %}"));
        assertFalse(unknownTag.raisedByTemplate());
        assertTrue(unknownTag.getMessage().contains("generation"), unknownTag.getMessage());

        ChatTemplateException unclosed = assertThrows(ChatTemplateException.class,
                () -> new JinjaChatTemplate("{% if true %}never closed", "<s>", "</s>", "test", FIXED));
        assertTrue(unclosed.getMessage().contains("if"), unclosed.getMessage());
    }

    @Test
    void concurrentRendersAgree() throws Exception {
        JinjaChatTemplate t = new JinjaChatTemplate(BuiltinChatTemplates.LLAMA3, "<|begin_of_text|>", "<|eot_id|>", "llama3", FIXED);
        String expected = t.render(CONVERSATION, true);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                List<ChatTemplate.Message> conversation = List.of(new ChatTemplate.Message("user", "question " + i));
                results.add(pool.submit(() -> t.render(CONVERSATION, true) + "|" + t.render(conversation, false)));
            }
            for (int i = 0; i < results.size(); i++) {
                String want = expected + "|<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nquestion " + i + "<|eot_id|>";
                assertEquals(want, results.get(i).get(), "render " + i);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
