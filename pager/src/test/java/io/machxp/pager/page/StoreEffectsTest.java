package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.assertReadCopy;
import static io.machxp.pager.page.XpKernels.assertWriteCopy;
import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * Store writes are effects the env runs off the core thread, in order, with their outcome fed
 * back to the core: here the test is the store thread, running them when it says.
 */
class StoreEffectsTest {
    private final FailingStore store = new FailingStore(0);
    private final XpKernels k = new XpKernels(store);
    private final long a = k.kernel(1, "A");
    private final long b = k.kernel(2, "B");

    {
        k.deferStoreEffects();
    }

    @Test
    void aReturnIsServedAtOnceWrittenByTheStoreThreadAndAKeepaliveAnsweredAfterIt() {
        k.write(a, 0);
        assertWriteCopy(k.one(a), 0, null);
        k.returnDirty(a, 0, page(5), false);
        k.keepalive(a, 1);
        assertThat(store.version("obj", 0)).as("not written on the core thread").isZero();
        k.nothingTo(a); // the keepalive's answer waits for the write before it

        k.read(b, 0);
        assertReadCopy(k.one(b), 0, page(5)); // the pager's copy is the returned data already

        k.runStore();
        assertThat(store.version("obj", 0)).isEqualTo(1);
        assertThat(store.read("obj", 0)).isEqualTo(page(5));
        assertThat(k.one(a).hasPagerKeepalive()).isTrue();
    }

    @Test
    void aFailedWriteIsFedBackAndThePageKeptInMemory() {
        k.write(a, 0);
        k.take(a);
        store.failWrites = 1;
        k.returnDirty(a, 0, page(6), false);
        k.runStore();
        assertThat(k.stats.storeFailures()).isEqualTo(1);
        assertThat(store.version("obj", 0)).isZero();
        k.read(b, 0); // A kept no copy: the pager supplies what it kept in memory
        assertReadCopy(k.one(b), 0, page(6));
        assertThat(k.take(a)).extracting(PagerToKernel::getRoutineCase).isEmpty();
    }

    /** Longer than the pager waits before it tries a failed write again, at its longest. */
    private static final long RETRY = java.util.concurrent.TimeUnit.SECONDS.toNanos(60);

    @Test
    void aKeepaliveIsNotAnsweredWhileAWriteBeforeItFailedAndIsOnceARetryWroteIt() {
        k.write(a, 0);
        k.take(a);
        store.failWrites = 2; // the write and its first retry: disk full
        k.returnDirty(a, 0, page(6), false);
        k.keepalive(a, 1);
        k.runStore();
        k.nothingTo(a); // not on disk: A must keep its copy, so no answer
        k.advance(RETRY);
        k.runStore();
        assertThat(k.stats.storeFailures()).isEqualTo(2);
        k.nothingTo(a);
        assertThat(store.version("obj", 0)).isZero();

        k.advance(RETRY); // the disk has room again: the retry writes it
        k.runStore();
        assertThat(store.read("obj", 0)).isEqualTo(page(6));
        assertThat(store.version("obj", 0)).isEqualTo(1);
        assertThat(k.one(a).getPagerKeepalive().getSequence()).isEqualTo(1);
    }

    @Test
    void aSynchronizeAfterAFailedWriteIsAnsweredWithAnErrorAndOneAfterTheRetryWithNone() {
        k.write(a, 0);
        k.take(a);
        store.failWrites = 1;
        k.returnDirty(a, 0, page(7), true);
        k.synchronize(a, 0, XpKernels.PAGE);
        k.runStore();
        var failed = k.one(a).getMemoryObjectSynchronizeCompleted();
        assertThat(failed.getError()).contains("store").contains("disk full");

        k.advance(RETRY);
        k.runStore();
        k.synchronize(a, 0, XpKernels.PAGE);
        k.runStore();
        assertThat(k.one(a).getMemoryObjectSynchronizeCompleted().getError()).isEmpty();
        assertThat(store.read("obj", 0)).isEqualTo(page(7));
    }

    @Test
    void aGrantWaitsUntilTheHoldersJournalSaysItOnDisk() {
        store.failHolders = 1;
        k.lockFutex(a, 0);
        k.runStore();
        k.nothingTo(a); // the journal does not say A holds it: a restart would not know
        assertThat(store.holders()).isEmpty();

        k.advance(RETRY);
        k.runStore();
        assertThat(store.holders()).extracting(io.machxp.pager.store.PageStore.Holder::kernel).containsExactly("A");
        assertThat(k.one(a).hasMemoryObjectFutexGranted()).isTrue();
    }

    @Test
    void aFailedJournalWriteIsNotWrittenAgainOnceTheFutexWentOn() {
        store.failHolders = 1;
        k.lockFutex(a, 0);
        k.runStore();
        k.terminate(a); // A lets go of the object before its grant could go: the futex is back at the pager
        k.runStore();
        k.advance(RETRY);
        k.runStore();
        assertThat(store.holders()).as("the journal does not give the futex to A again").isEmpty();
        k.nothingTo(a); // nor is the grant sent, which no longer stands
    }

    /**
     * A dirty return whose version the pager cannot read (the store's read fails) is kept in
     * memory and its version judged again when the store is written: until it is on disk A's
     * keepalive is not answered (A keeps its copy). Before, the data was thrown away and the
     * keepalive answered: B then read the old page.
     */
    @Test
    void aReturnWhoseVersionCannotBeReadIsKeptAndWrittenOnceItCanBe() {
        k.write(a, 0);
        k.take(a);
        store.failVersions = 2; // the core's read and the first write's
        k.returnDirty(a, 0, page(6), false);
        k.keepalive(a, 1);
        k.runStore();
        k.nothingTo(a);
        assertThat(store.version("obj", 0)).isZero();

        k.advance(RETRY);
        k.runStore();
        assertThat(store.read("obj", 0)).isEqualTo(page(6));
        assertThat(store.version("obj", 0)).isEqualTo(1);
        assertThat(k.one(a).getPagerKeepalive().getSequence()).isEqualTo(1);
        k.read(b, 0);
        k.runStore();
        assertReadCopy(k.one(b), 0, page(6));
    }

    /**
     * A failed judging write of data given back as version 0 ("the next one") is recorded as
     * version 0, which is no version: checked (durability review leftover) that nothing takes it
     * for one. The retry judges the data kept in memory again, against the store's version then,
     * and A's keepalive waits until that write is on disk; the store's older page never counts
     * as it.
     */
    @Test
    void aFailedJudgingWriteOfVersionZeroDataIsWrittenAsTheNextVersionBeforeTheKeepaliveIsAnswered() {
        store.memory.write("obj", 0, page(1), 5);
        k.write(a, 0);
        k.runStore();
        k.take(a);
        store.failVersions = 1; // the core's read: the data waits unjudged
        store.failWrites = 1; // the judging write reads version 5, then fails to write
        k.returnDirty(a, 0, page(6), false);
        k.keepalive(a, 1);
        k.runStore();
        k.nothingTo(a);
        assertThat(store.version("obj", 0)).isEqualTo(5);

        k.advance(RETRY);
        k.runStore();
        assertThat(store.version("obj", 0)).isEqualTo(6);
        assertThat(store.read("obj", 0)).isEqualTo(page(6));
        assertThat(k.one(a).getPagerKeepalive().getSequence()).isEqualTo(1);
    }

    /** While its version is not known the page is not served: B gets data_error, never the old page. */
    @Test
    void aPageWhoseReturnedVersionIsNotKnownYetIsNotServedOld() {
        k.write(a, 0);
        k.take(a);
        store.failVersions = 1;
        k.returnDirty(a, 0, page(6), false);
        k.read(b, 0);
        assertThat(k.one(b).hasMemoryObjectDataError()).isTrue();
        k.runStore(); // the write judges its version (0: the next one) and writes it
        assertThat(store.version("obj", 0)).isEqualTo(1);
        k.read(b, 0);
        k.runStore();
        assertReadCopy(k.one(b), 0, page(6));
    }

    /**
     * A page-in of a page whose returned data waits unjudged gets data_error, but that is no store
     * failure: logged once for the page, not counted. Before, each page-in was a PAGE STORE FAILURE
     * at ERROR and counted in machxp_store_failures_total.
     */
    @Test
    void pageInsOfAPageWaitingUnjudgedAreNotCountedAsStoreFailures() {
        k.write(a, 0);
        k.take(a);
        store.failVersions = 1;
        k.returnDirty(a, 0, page(6), false);
        k.read(b, 0);
        k.read(b, 0);
        assertThat(k.take(b)).hasSize(2).allMatch(io.machxp.proto.xp.PagerToKernel::hasMemoryObjectDataError);
        assertThat(k.stats.storeFailures()).isZero();
    }

    /**
     * Only the newest keepalive answer of a session is held (the kernel takes an answer as
     * covering every older sequence): before, each keepalive of every kernel was kept, without
     * bound, while a page kept failing.
     */
    @Test
    void aSessionHasAtMostOneKeepaliveAnswerHeldAndTheNewestGoesOnceThePageIsWritten() {
        k.write(a, 0);
        k.take(a);
        store.failWrites = Integer.MAX_VALUE;
        k.returnDirty(a, 0, page(6), false);
        k.runStore();
        for (int i = 1; i <= 10_000; i++) {
            k.keepalive(a, i);
            k.runStore();
        }
        assertThat(k.pager.heldKeepaliveAnswers()).isEqualTo(1);
        k.nothingTo(a);

        store.failWrites = 0;
        k.advance(RETRY);
        k.runStore();
        assertThat(k.one(a).getPagerKeepalive().getSequence()).isEqualTo(10_000);
        assertThat(k.pager.heldKeepaliveAnswers()).isZero();
    }

    /** A held answer of a session that ended is dropped with it. */
    @Test
    void aHeldKeepaliveAnswerGoesWithItsSession() {
        k.write(a, 0);
        k.take(a);
        store.failWrites = Integer.MAX_VALUE;
        k.returnDirty(a, 0, page(6), false);
        k.keepalive(a, 1);
        k.runStore();
        assertThat(k.pager.heldKeepaliveAnswers()).isEqualTo(1);
        k.pager.sessionClosed(a);
        k.keepalive(b, 1);
        k.runStore();
        assertThat(k.pager.heldKeepaliveAnswers()).isZero();
    }

    /**
     * A stream ended cleanly is ended by the pager once what it carried is stored (xp-spec 2.6):
     * after the writes before it, and after a failed return of that kernel is written again, even
     * though its session has ended meanwhile (a held keepalive answer goes with its session; the
     * end does not). Before, the pager had no way to wait: it ended the stream at once.
     */
    @Test
    void aCleanEndWaitsForTheWritesBeforeItAndAFailedReturnOfItsKernel() {
        k.write(a, 0);
        k.take(a);
        store.failWrites = 1; // the write fails once: disk full
        k.returnDirty(a, 0, page(6), false);
        boolean[] stored = {false};
        k.pager.whenStored(a, () -> stored[0] = true);
        k.pager.sessionClosed(a);
        assertThat(stored[0]).as("the write before it has not run").isFalse();
        k.runStore();
        assertThat(stored[0]).as("the return's write failed: it is not stored").isFalse();

        k.advance(RETRY); // the retry writes it
        k.runStore();
        assertThat(store.read("obj", 0)).isEqualTo(page(6));
        assertThat(stored[0]).isTrue();
    }

    /**
     * A clean end's wait whose bound ran out is forgotten: a write that succeeds only later does
     * not run it, and nothing keeps it (its end already went to the kernel). Before, the wait
     * stayed for good when the write never succeeded, holding the stream's outbox.
     */
    @Test
    void aCleanEndsWaitThatRanOutIsForgotten() {
        k.write(a, 0);
        k.take(a);
        store.failWrites = 1;
        k.returnDirty(a, 0, page(6), false);
        boolean[] stored = {false};
        Runnable forget = k.pager.whenStored(a, () -> stored[0] = true);
        k.pager.sessionClosed(a);
        k.runStore();
        assertThat(k.pager.endsWaitingForWrites()).as("it waits for the failed return").isEqualTo(1);

        forget.run(); // the caller's bound ran out
        assertThat(k.pager.endsWaitingForWrites()).isZero();
        k.advance(RETRY);
        k.runStore();
        assertThat(store.read("obj", 0)).isEqualTo(page(6));
        assertThat(stored[0]).as("a forgotten wait does not run").isFalse();
    }

    /**
     * Only the kernel whose return is not written waits for its keepalive's answer: another
     * kernel, even one reading that page from the pager's memory, is answered (the returner keeps
     * its copy until its own keepalive is answered). Before, every kernel's keepalive was held.
     */
    @Test
    void onlyTheKernelWhoseReturnIsNotWrittenHasItsKeepaliveHeld() {
        k.write(a, 0);
        k.take(a);
        store.failWrites = Integer.MAX_VALUE;
        k.returnDirty(a, 0, page(6), false);
        k.read(b, 0);
        k.keepalive(a, 1);
        k.keepalive(b, 1);
        k.runStore();
        java.util.List<PagerToKernel> toB = k.take(b);
        assertReadCopy(toB.get(0), 0, page(6));
        assertThat(toB.get(1).getPagerKeepalive().getSequence()).isEqualTo(1);
        k.nothingTo(a);
    }

    /** A newer write of the page that succeeds (another kernel's return) releases the keepalive held for it. */
    @Test
    void aNewerWriteOfThePageReleasesTheHeldKeepalive() {
        k.write(a, 0);
        k.take(a);
        store.failWrites = 1;
        k.returnDirty(a, 0, page(6), false);
        k.keepalive(a, 1);
        k.runStore();
        k.nothingTo(a);
        k.write(b, 0);
        k.runStore();
        assertWriteCopy(k.one(b), 0, page(6));
        k.returnDirty(b, 0, page(7), true);
        k.runStore();
        assertThat(store.read("obj", 0)).isEqualTo(page(7));
        assertThat(k.one(a).getPagerKeepalive().getSequence()).isEqualTo(1);
    }

    /**
     * The waits between retries of a page that keeps failing grow as they should while other
     * writes succeed: only a failed write that succeeds makes them short again. Before, any
     * write that succeeded did, and a busy pager tried the bad page (logging an ERROR) after
     * every other write.
     */
    @Test
    void otherWritesThatSucceedDoNotShortenTheWaitsOfAPageThatKeepsFailing() {
        k.write(a, 0);
        k.take(a);
        k.write(a, XpKernels.PAGE);
        k.take(a);
        store.failingPage = 0;
        k.returnDirty(a, 0, page(6), true);
        k.runStore();
        for (int second = 1; second <= 60; second++) {
            k.returnDirty(a, XpKernels.PAGE, page(second), true); // written at once
            k.advance(java.util.concurrent.TimeUnit.SECONDS.toNanos(1));
            k.runStore();
        }
        assertThat(store.read("obj", XpKernels.PAGE)).isEqualTo(page(60));
        // 0.1 s doubling to 10 s: 11 retries in 60 s, and the first failure
        assertThat(k.stats.storeFailures()).isBetween(10L, 14L);
    }

    /**
     * Once the closing pager has tried its failed writes a last time, a retry timer that fires
     * does nothing: the store thread is shut down by then, and the write would run on the core
     * thread while the store closes.
     */
    @Test
    void aRetryTimerAfterTheLastTryOfAClosingPagerDoesNothing() {
        k.write(a, 0);
        k.take(a);
        store.failingPage = 0;
        k.returnDirty(a, 0, page(6), false);
        k.runStore();
        assertThat(k.pager.retryFailedStoreWrites()).isEqualTo(1);
        k.runStore();
        assertThat(k.stats.storeFailures()).isEqualTo(2);
        k.advance(RETRY);
        k.runStore();
        assertThat(k.stats.storeFailures()).isEqualTo(2);
    }
}
