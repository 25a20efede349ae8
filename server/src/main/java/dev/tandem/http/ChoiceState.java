package dev.tandem.http;

import dev.tandem.engine.FinishReason;
import dev.tandem.engine.Logprobs;

import java.util.ArrayList;
import java.util.List;

/** What one choice has produced so far: its text, tokens and logprobs, and how it ended. Event-loop confined. */
final class ChoiceState {
    final PreparedCall.Choice choice;
    final StringBuilder text = new StringBuilder(); // non-streaming: the whole text (echo included)
    final List<Integer> tokens = new ArrayList<>();          // generated ids, when logprobs are asked for
    final List<Logprobs> logprobs = new ArrayList<>();        // one per token in tokens
    final List<Integer> textOffsets = new ArrayList<>();      // offset in the choice's text where each token's text begins
    int chars;                                                 // characters of text produced so far (echo included)
    FinishReason finish;                                       // null while running
    int completionTokens;

    ChoiceState(PreparedCall.Choice choice) {
        this.choice = choice;
        this.chars = choice.echoText().length();
    }

    boolean finished() {
        return finish != null;
    }

    static String reason(FinishReason r) {
        return r == FinishReason.LENGTH ? "length" : "stop";
    }
}
