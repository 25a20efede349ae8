package dev.tandem.bench.loadgen;

/**
 * One request of the workload, before it is sent.
 *
 * @param arrivalSeconds when to send it, from the start of the run
 * @param prompt         token ids, {@code inputLen} of them
 */
record PlannedRequest(int index, String requestClass, int inputLen, int outputLen, double arrivalSeconds, int[] prompt) {}
