package io.machxp.bench.workload;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bench's shared state: what one mapping writes, another mapping of the file reads. */
class BoardTest {
    @TempDir
    Path dir;

    @Test
    void twoMappingsOfOneFileShareEveryWord() throws Exception {
        Path file = dir.resolve("board");
        Board parent = Board.mapped(file, 4);
        Board worker = Board.mapped(file, 4);
        worker.ready();
        worker.ready();
        assertThat(parent.readyCount()).isEqualTo(2);
        assertThat(worker.opened()).isFalse();
        parent.open(100, 200);
        assertThat(worker.opened()).isTrue();
        assertThat(worker.begin()).isEqualTo(100);
        assertThat(worker.end()).isEqualTo(200);
        worker.completed(64);
        assertThat(parent.completedCount()).isEqualTo(64);
    }

    @Test
    void occupancyCatchesASecondWorkerInside() {
        Board b = Board.inMemory(2);
        assertThat(b.enter(1)).isTrue();
        assertThat(b.enter(0)).as("another lock").isTrue();
        assertThat(b.enter(1)).isFalse();
        b.leave(1);
        b.leave(1);
        assertThat(b.enter(1)).isTrue();
    }

    @Test
    void recordsWhichNodeAcquiredEachLockLastInOrder() {
        Board b = Board.inMemory(3);
        assertThat(b.lastNode(0)).isEqualTo(-1);
        b.acquired(0, 2);
        b.acquired(2, 63);
        b.acquired(0, 1);
        assertThat(b.lastNode(0)).isEqualTo(1);
        assertThat(b.lastNode(2)).isEqualTo(63);
        assertThat(b.lastStamp(0)).isGreaterThan(b.lastStamp(2));
        assertThat(b.lastNode(1)).isEqualTo(-1);
    }

    @Test
    void workerStatsTravelAsOneLine() {
        WorkerStats s = new WorkerStats();
        s.ops = 3;
        s.writes = 2;
        s.violations = 1;
        s.handoffs = 2;
        s.latency.recordValue(1_500);
        s.waits.recordValue(700_000);
        WorkerStats back = WorkerStats.decode(s.encode());
        assertThat(back.ops()).isEqualTo(3);
        assertThat(back.writes).isEqualTo(2);
        assertThat(back.violations).isEqualTo(1);
        assertThat(back.handoffs()).isEqualTo(2);
        Histogram expected = s.latency;
        assertThat(back.latency).isEqualTo(expected);
        assertThat(back.waits.getMaxValue()).isEqualTo(s.waits.getMaxValue());
    }
}
