package dev.tandem.http;

import dev.tandem.tokenizer.ChatTemplate;

import java.util.List;

/** A parsed {@code POST /v1/chat/completions}: the conversation, each message's content joined to one text. */
record ChatRequest(GenerationOptions options, List<ChatTemplate.Message> messages) {
}
