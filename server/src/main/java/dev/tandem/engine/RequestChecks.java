package dev.tandem.engine;

/**
 * What {@link Engine#submit} checks before a request may wait for admission: that it fits the
 * context, names only tokens of the vocabulary, and has valid sampling parameters; and how many
 * tokens it may generate. Problems are one-line messages for a 400 answer.
 */
final class RequestChecks {
    private RequestChecks() {}

    /**
     * @param contextLength positions one sequence may use
     * @param vocab         the model's vocabulary size
     * @return null when the request is acceptable, else why not
     */
    static String problem(GenerationRequest request, int contextLength, int vocab) {
        int[] prompt = request.promptTokens();
        if (prompt.length > contextLength - 1) {
            return "the prompt has " + prompt.length + " tokens; the context of " + contextLength + " holds at most "
                    + (contextLength - 1) + " prompt tokens and one generated token";
        }
        for (int i = 0; i < prompt.length; i++) {
            if (prompt[i] < 0 || prompt[i] >= vocab) {
                return "prompt token " + i + " is " + prompt[i] + ", outside the vocabulary (0.." + (vocab - 1) + ")";
            }
        }
        try {
            request.sampling().validate();
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        return null;
    }

    /** {@code maxTokens} lowered so that prompt + generated tokens fit the context (the request then ends with LENGTH there). */
    static int maxTokens(GenerationRequest request, int contextLength) {
        return Math.min(request.maxTokens(), contextLength - request.promptTokens().length);
    }
}
