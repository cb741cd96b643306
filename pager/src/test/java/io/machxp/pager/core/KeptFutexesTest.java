package io.machxp.pager.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link KeptFutexes}: due in the order kept (then by key), stale entries (a holding ended,
 * PagerGrants clearing keptWhenAsked) skipped and swept, and a queue rebuilt from the records
 * gives the same futexes in the same order as the live one.
 */
class KeptFutexesTest {
    private final Map<FutexKey, FutexRecord> records = new HashMap<>();

    private FutexRecord record(long offset) {
        FutexKey key = new FutexKey("obj", offset);
        return records.computeIfAbsent(key, FutexRecord::new);
    }

    private List<Long> drain(KeptFutexes q, long now, long wait) {
        return drain(q, now, wait, records);
    }

    private static List<Long> drain(KeptFutexes q, long now, long wait, Map<FutexKey, FutexRecord> records) {
        List<Long> out = new ArrayList<>();
        for (FutexRecord f; (f = q.firstDue(now, wait, records::get)) != null; ) {
            out.add(f.key.offset());
            q.forget(f);
        }
        return out;
    }

    @Test
    void dueInTheOrderKeptStaleOnesSkippedAndARestoredQueueAlike() {
        KeptFutexes live = new KeptFutexes();
        live.kept(record(40), 10, records::get);
        live.kept(record(8), 20, records::get);
        live.kept(record(4), 20, records::get); // same instant: by key
        live.kept(record(12), 30, records::get);
        record(8).keptWhenAsked = false; // its holding ended (a release): stale
        live.kept(record(40), 25, records::get); // kept again: moves
        Map<FutexKey, FutexRecord> copies = new HashMap<>(); // as a snapshot restores them
        for (FutexRecord f : records.values()) {
            FutexRecord c = new FutexRecord(f.key);
            c.keptWhenAsked = f.keptWhenAsked;
            c.keptWhenAskedNanos = f.keptWhenAsked ? f.keptWhenAskedNanos : 0;
            copies.put(c.key, c);
        }
        KeptFutexes restored = new KeptFutexes();
        restored.restore(copies.values());
        assertThat(live.firstDue(20, 10, records::get)).as("nothing due before its wait").isNull();
        assertThat(drain(live, 35, 10)).containsExactly(4L, 40L);
        assertThat(drain(restored, 35, 10, copies)).containsExactly(4L, 40L);
        assertThat(record(4).keptWhenAsked).as("asked again: no longer kept").isFalse();
        assertThat(drain(live, 40, 10)).containsExactly(12L);
        assertThat(live.size()).isZero();
    }

    @Test
    void staleEntriesAreSweptAsKeptOnesAreAdded() {
        KeptFutexes q = new KeptFutexes();
        for (int i = 0; i < 100; i++) {
            q.kept(record(4L * i), i, records::get);
            record(4L * i).keptWhenAsked = false; // each holding ends at once
        }
        // Two swept per entry added: no more than about half of them are left.
        assertThat(q.size()).isLessThanOrEqualTo(52);
        assertThat(q.firstDue(1_000, 10, records::get)).as("all stale").isNull();
        assertThat(q.size()).isZero();
    }
}
