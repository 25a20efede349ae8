package dev.tandem.tokenizer;

import java.util.List;
import java.util.Map;

/**
 * Jinja sources of the chat formats tandem knows by name, for model files that carry no
 * {@code tokenizer.chat_template}. Each follows its family's published format (the template its model card or
 * tokenizer_config.json gives); they render with the same engine as a file's own template.
 */
final class BuiltinChatTemplates {
    private BuiltinChatTemplates() {
    }

    /** ChatML (Qwen, SmolLM, many fine-tunes): {@code <|im_start|>role\ncontent<|im_end|>\n}. */
    static final String CHATML = """
            {% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}\
            {% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}""";

    /** Llama 3 Instruct: a header per message, content trimmed, {@code <|eot_id|>} after each; BOS first. */
    static final String LLAMA3 = """
            {% for message in messages %}\
            {% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' %}\
            {% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}\
            {% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}""";

    /**
     * Llama 2 chat: {@code <s>[INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST] answer </s>}; the system prompt joins
     * the first user turn; roles must alternate.
     */
    static final String LLAMA2 = """
            {% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}\
            {% else %}{% set loop_messages = messages %}{% endif %}\
            {% for message in loop_messages %}\
            {% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}\
            {% if loop.index0 == 0 and system_message is defined %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}\
            {% else %}{% set content = message['content'] %}{% endif %}\
            {% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}\
            {% elif message['role'] == 'assistant' %}{{ ' ' + content.strip() + ' ' + eos_token }}{% endif %}\
            {% endfor %}""";

    /**
     * Mistral Instruct (v0.1/v0.2 format): {@code <s>[INST] user [/INST]answer</s>}; a system prompt is put before
     * the first user message, separated by a blank line; roles must alternate.
     */
    static final String MISTRAL = """
            {% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}\
            {% else %}{% set loop_messages = messages %}{% endif %}\
            {{ bos_token }}{% for message in loop_messages %}\
            {% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}\
            {% if message['role'] == 'user' %}\
            {% if loop.index0 == 0 and system_message is defined %}{{ '[INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\
            {% else %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% endif %}\
            {% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}\
            {% else %}{{ raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}{% endif %}\
            {% endfor %}""";

    /** Phi-3 instruct: {@code <|role|>\ncontent<|end|>\n}; EOS at the end when no generation prompt follows. */
    static final String PHI3 = """
            {% for message in messages %}\
            {% if message['role'] == 'system' %}{{ '<|system|>\\n' + message['content'] + '<|end|>\\n' }}\
            {% elif message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + '<|end|>\\n' }}\
            {% elif message['role'] == 'assistant' %}{{ '<|assistant|>\\n' + message['content'] + '<|end|>\\n' }}{% endif %}\
            {% endfor %}\
            {% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}""";

    /**
     * Zephyr (HuggingFaceH4/zephyr-7b-beta), written with line breaks as published: trim_blocks removes the one after
     * each block tag, the one after each {@code }}} stays, so every message is {@code <|role|>\ncontent</s>\n}.
     */
    static final String ZEPHYR = """
            {% for message in messages %}
            {% if message['role'] == 'user' %}
            {{ '<|user|>\\n' + message['content'] + eos_token }}
            {% elif message['role'] == 'system' %}
            {{ '<|system|>\\n' + message['content'] + eos_token }}
            {% elif message['role'] == 'assistant' %}
            {{ '<|assistant|>\\n'  + message['content'] + eos_token }}
            {% endif %}
            {% if loop.last and add_generation_prompt %}
            {{ '<|assistant|>' }}
            {% endif %}
            {% endfor %}
            """;

    static final Map<String, String> SOURCES = Map.of(
            "chatml", CHATML, "llama2", LLAMA2, "llama3", LLAMA3, "mistral", MISTRAL, "phi3", PHI3, "zephyr", ZEPHYR);

    /** The names, in a fixed order for messages. */
    static final List<String> NAMES = List.of("chatml", "llama2", "llama3", "mistral", "phi3", "zephyr");
}
