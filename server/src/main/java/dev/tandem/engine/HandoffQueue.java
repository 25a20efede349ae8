package dev.tandem.engine;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A bounded single-producer, single-consumer ring: the prefill thread offers migrated requests,
 * the decode worker polls them between steps. Preallocated; offer and poll allocate nothing, take
 * no lock and never block.
 */
final class HandoffQueue<T> {
    private final AtomicReferenceArray<T> slots; // [capacity]
    private final int capacity;
    private final AtomicLong head = new AtomicLong(); // next slot to poll (consumer)
    private final AtomicLong tail = new AtomicLong(); // next slot to fill (producer)

    HandoffQueue(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, not " + capacity);
        }
        this.capacity = capacity;
        this.slots = new AtomicReferenceArray<>(capacity);
    }

    /** Producer only. @return false, changing nothing, when full */
    boolean offer(T item) {
        long t = tail.get();
        if (t - head.get() == capacity) {
            return false;
        }
        slots.lazySet((int) (t % capacity), item);
        tail.set(t + 1); // publishes the item (volatile write after the slot write)
        return true;
    }

    /** Consumer only. @return the oldest item, or null when empty */
    T poll() {
        long h = head.get();
        if (h == tail.get()) {
            return null;
        }
        int i = (int) (h % capacity);
        T item = slots.get(i);
        slots.lazySet(i, null);
        head.set(h + 1);
        return item;
    }

    boolean isEmpty() {
        return head.get() == tail.get();
    }
}
