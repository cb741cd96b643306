package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.machxp.pager.core.PagerCore;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A disk that stays full fails every write of the futex holders' journal (each grant's entry,
 * each retry, each release): each failure is one line with its cause, and only the first has a
 * stack trace, not every one.
 */
class JournalFailureLogTest {
    private static final long RETRY = java.util.concurrent.TimeUnit.SECONDS.toNanos(60);

    @Test
    void eachFailedJournalWriteIsALineAndOnlyTheFirstHasAStackTrace() {
        FailingStore store = new FailingStore(0);
        XpKernels k = new XpKernels(store);
        long a = k.kernel(1, "A");
        k.deferStoreEffects();
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        Logger log = (Logger) LoggerFactory.getLogger(PagerCore.class);
        logged.start();
        log.addAppender(logged);
        try {
            store.failHolders = 3;
            k.lockFutex(a, 0);
            k.lockFutex(a, XpKernels.PAGE);
            k.runStore(); // both grants' entries fail
            k.advance(RETRY);
            k.runStore(); // the first retry fails, the second is written
            k.advance(RETRY);
            k.runStore();
            assertThat(k.take(a)).filteredOn(PagerToKernel::hasMemoryObjectFutexGranted).hasSize(2);
            store.failHolders = 2;
            k.futexReleased(a, 0);
            k.futexReleased(a, XpKernels.PAGE);
            k.runStore(); // both releases' entries fail
        } finally {
            log.detachAppender(logged);
        }
        var failures = logged.list.stream().filter(e -> e.getLevel() == Level.ERROR
                && e.getFormattedMessage().contains("futex holders' journal entry")).toList();
        assertThat(failures).hasSize(5).allMatch(e -> e.getFormattedMessage().contains("disk full"));
        assertThat(failures).filteredOn(e -> e.getThrowableProxy() != null).as("stack traces").hasSize(1);
        assertThat(k.stats.storeFailures()).isEqualTo(5);
    }
}
