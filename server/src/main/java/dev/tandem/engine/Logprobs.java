package dev.tandem.engine;

/**
 * Log-probabilities for one generated token under the model's raw distribution (log-softmax of
 * the logits, before penalties and sampling filters): the chosen token's, and the top
 * {@code topIds.length} alternatives in descending order.
 */
public record Logprobs(float logprob, int[] topIds, float[] topLogprobs) {
}
