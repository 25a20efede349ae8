package dev.tandem.tokenizer;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.tree.Node;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A chat template written in Jinja, rendered the way Hugging Face's transformers renders it ({@link JinjaEngine}).
 * The source is parsed once; each {@link #render} runs the parsed tree in a fresh interpreter, so one instance
 * serves any number of threads. Variables: {@code messages} (each {@code {role, content}}),
 * {@code add_generation_prompt}, {@code bos_token} and {@code eos_token} when known (undefined otherwise, as
 * transformers leaves a missing special token out); {@code tools} and the rest stay undefined.
 */
public final class JinjaChatTemplate implements ChatTemplate {
    private final String name;
    private final String bos; // null when the vocabulary has none
    private final String eos; // null when the vocabulary has none
    private final Clock clock; // what strftime_now reads
    private final Node root;   // parsed once, read-only afterwards

    /**
     * @throws ChatTemplateException when the source does not parse
     */
    public JinjaChatTemplate(String source, String bos, String eos, String name, Clock clock) {
        this.name = name;
        this.bos = bos;
        this.eos = eos;
        this.clock = clock;
        JinjavaInterpreter interpreter = JinjaEngine.JINJAVA.newInterpreter();
        JinjavaInterpreter.pushCurrent(interpreter);
        try {
            this.root = interpreter.parse(JinjaLstrip.apply(source));
        } finally {
            JinjavaInterpreter.popCurrent();
        }
        throwOnErrors(interpreter.getErrors(), "does not parse");
    }

    public JinjaChatTemplate(String source, String bos, String eos, String name) {
        this(source, bos, eos, name, Clock.systemDefaultZone());
    }

    @Override
    public String render(List<Message> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> list = new ArrayList<>(messages.size());
        for (Message m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            list.add(map);
        }
        JinjavaInterpreter interpreter = JinjaEngine.JINJAVA.newInterpreter();
        var context = interpreter.getContext();
        context.put("messages", list);
        context.put("add_generation_prompt", addGenerationPrompt);
        if (bos != null) {
            context.put("bos_token", bos);
        }
        if (eos != null) {
            context.put("eos_token", eos);
        }
        context.put("strftime_now", "<function strftime_now>"); // so `strftime_now is defined` holds
        context.put(JinjaEngine.CLOCK_VARIABLE, clock);
        JinjavaInterpreter.pushCurrent(interpreter);
        String out;
        try {
            out = interpreter.render(root, true);
        } catch (RuntimeException e) {
            throw new ChatTemplateException("chat template " + name + " failed: " + e.getMessage(), e);
        } finally {
            JinjavaInterpreter.popCurrent();
        }
        throwOnErrors(interpreter.getErrors(), "cannot be rendered");
        return out;
    }

    /** A raise_exception among the errors wins; otherwise the first fatal error, with its line. */
    private void throwOnErrors(List<TemplateError> errors, String what) {
        TemplateError fatal = null;
        for (TemplateError e : errors) {
            for (Throwable t = e.getException(); t != null; t = t.getCause()) {
                if (t instanceof JinjaEngine.Raised raised) {
                    throw new ChatTemplateException(raised.getMessage(), true);
                }
            }
            if (fatal == null && e.getSeverity() == TemplateError.ErrorType.FATAL) {
                fatal = e;
            }
        }
        if (fatal != null) {
            throw new ChatTemplateException("chat template " + name + " " + what + ": " + fatal.getMessage()
                    + " (line " + fatal.getLineno() + ")", false);
        }
    }

    @Override
    public String name() {
        return name;
    }

    public String bosToken() {
        return bos;
    }

    public String eosToken() {
        return eos;
    }
}
