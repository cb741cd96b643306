package io.machxp.pager.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.page.PageKey;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;

/**
 * Keys named by an object and a page-aligned offset spread over a hash table's buckets. With the
 * records' own hash codes, 64 consecutive pages of one object fell into 4 of a 128-bucket
 * {@link java.util.HashMap}'s buckets (16 each: a tree searched on every lookup of the pager's
 * page table, futex records and memory store).
 */
class OffsetHashTest {
    private static final int PAGE = 4096;
    private static final int KEYS = 64;
    /** The table a HashMap of 64 entries has (load factor 0.75). */
    private static final int BUCKETS = 128;

    /** The bucket java.util.HashMap puts a key of this hash code in. */
    private static int bucket(int h) {
        return (h ^ (h >>> 16)) & (BUCKETS - 1);
    }

    private static int bucketsUsed(LongFunction<Object> key) {
        Set<Integer> used = new HashSet<>();
        for (int k = 0; k < KEYS; k++) {
            used.add(bucket(key.apply((long) k * PAGE).hashCode()));
        }
        return used.size();
    }

    @Test
    void pagesOfOneObjectSpreadOverTheBuckets() {
        assertThat(bucketsUsed(offset -> new PageKey("bench", offset))).isGreaterThanOrEqualTo(KEYS / 2);
    }

    @Test
    void futexesAtTheStartOfTheirPagesSpreadOverTheBuckets() {
        assertThat(bucketsUsed(offset -> new FutexKey("bench", offset))).isGreaterThanOrEqualTo(KEYS / 2);
        assertThat(bucketsUsed(offset -> new FutexKey("bench", offset + 64))).isGreaterThanOrEqualTo(KEYS / 2);
    }

    @Test
    void offsetsAloneSpreadOverTheBuckets() {
        Set<Integer> used = new HashSet<>();
        for (int k = 0; k < KEYS; k++) {
            used.add(bucket(OffsetHash.of((long) k * PAGE)));
        }
        assertThat(used.size()).isGreaterThanOrEqualTo(KEYS / 2);
    }

    @Test
    void equalKeysStayEqualWithEqualHashes() {
        assertThat(new PageKey("a", 8192)).isEqualTo(new PageKey("a", 8192)).hasSameHashCodeAs(new PageKey("a", 8192));
        assertThat(new PageKey("a", 8192)).isNotEqualTo(new PageKey("b", 8192)).isNotEqualTo(new PageKey("a", 4096));
        assertThat(new FutexKey("a", 8)).isEqualTo(new FutexKey("a", 8)).hasSameHashCodeAs(new FutexKey("a", 8));
    }

    /** The memory store, keyed by such offsets now, finds every page and lists them by object and offset. */
    @Test
    void theMemoryStoreFindsAndListsItsPagesByOffset() {
        MemoryPageStore store = new MemoryPageStore();
        for (int k = KEYS - 1; k >= 0; k--) {
            store.write("o", (long) k * PAGE, new byte[] {(byte) k}, k + 1);
        }
        for (int k = 0; k < KEYS; k++) {
            assertThat(store.read("o", (long) k * PAGE)).containsExactly((byte) k);
            assertThat(store.version("o", (long) k * PAGE)).isEqualTo(k + 1);
        }
        assertThat(store.read("o", PAGE / 2)).isNull();
        assertThat(store.version("other", 0)).isZero();
        List<Long> listed = new ArrayList<>();
        store.forEachPage((object, offset, data, version) -> listed.add(offset));
        assertThat(listed).isSorted().hasSize(KEYS);
        store.holder("o", PAGE, "A");
        store.holder("o", 2 * PAGE, "B");
        store.holder("o", PAGE, null);
        assertThat(store.holders()).extracting(PageStore.Holder::kernel).containsExactly("B");
    }
}
