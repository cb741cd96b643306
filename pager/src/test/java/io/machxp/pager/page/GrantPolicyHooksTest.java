package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.PAGE;
import static io.machxp.pager.page.XpKernels.assertReadCopy;
import static io.machxp.pager.page.XpKernels.assertWriteCopy;
import static io.machxp.pager.page.XpKernels.dirtyPage;
import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.policy.GrantPolicy;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.pager.store.PageStore;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The pager library's policy hooks as the core carries them out: whom to grant among the waiting
 * kernels ({@link GrantPolicy#chooseNext}) and whether a grant carries the pages given back with
 * the futex ({@link GrantPolicy#pagesInGrant}); the protocol around them stays the pager's.
 */
class GrantPolicyHooksTest {
    private static XpKernels pager(GrantPolicy policy) {
        return new XpKernels(new MemoryPageStore(), new PagerOptions(0, 3).withGrantPolicy(policy));
    }

    private static MemoryObjectFutexGranted granted(List<PagerToKernel> got) {
        return got.stream().filter(PagerToKernel::hasMemoryObjectFutexGranted).findFirst()
                .orElseThrow(() -> new AssertionError("no futex_granted in " + got)).getMemoryObjectFutexGranted();
    }

    @Test
    void aPolicyChoosesWhomToGrantAmongTheWaitersInThePagersOrder() {
        List<List<GrantPolicy.Waiter>> asked = new ArrayList<>();
        XpKernels x = pager(new GrantPolicy() {
            @Override
            public String name() {
                return "last-come";
            }

            @Override
            public int chooseNext(List<GrantPolicy.Waiter> waiters) {
                asked.add(waiters);
                return waiters.size() - 1;
            }
        });
        long a = x.kernel(1, "A");
        long b = x.kernel(2, "B");
        long c = x.kernel(3, "C");
        x.lockFutex(a, 0);
        long token = granted(x.take(a)).getFencingToken();
        x.lockFutex(b, 0);
        x.lockFutex(c, 0);
        x.take(a);

        x.futexReleased(a, 0);

        assertThat(asked).containsExactly(List.of(new GrantPolicy.Waiter("B", 0), new GrantPolicy.Waiter("C", 0)));
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("C");
        MemoryObjectFutexGranted toC = granted(x.take(c));
        assertThat(toC.getFencingToken()).as("the protocol is the pager's: tokens grow").isGreaterThan(token);
        assertThat(toC.getRelinquish()).as("B still waits").isTrue();
        x.nothingTo(b);

        x.futexReleased(c, 0);
        assertThat(x.pager.holderOf("obj", 0)).as("one waiter left: no choice to make").isEqualTo("B");
        assertThat(asked).hasSize(1);
    }

    @Test
    void aGrantCarriesThePagesGivenBackWithTheFutexUnlessThePolicySaysNot() {
        for (boolean carried : new boolean[] {true, false}) {
            XpKernels x = pager(new GrantPolicy() {
                @Override
                public String name() {
                    return carried ? "carried" : "fetched";
                }

                @Override
                public boolean pagesInGrant() {
                    return carried;
                }
            });
            long a = x.kernel(1, "A");
            long b = x.kernel(2, "B");
            x.lockFutex(a, 0);
            x.write(a, PAGE);
            x.take(a);
            x.lockFutex(b, 0);
            x.take(a);

            x.futexReleased(a, 0, dirtyPage(PAGE, page(5)));

            MemoryObjectFutexGranted toB = granted(x.take(b));
            if (carried) {
                assertThat(toB.getPagesList()).singleElement().satisfies(p -> {
                    assertThat(p.getOffset()).isEqualTo(PAGE);
                    assertThat(p.getData().toByteArray()).isEqualTo(page(5));
                });
                assertThat(x.pager.pageWriter("obj", PAGE)).isEqualTo("B");
            } else {
                assertThat(toB.getPagesList()).isEmpty();
                assertThat(x.pager.pageWriter("obj", PAGE)).isNull();
                x.read(b, PAGE);
                assertReadCopy(x.one(b), PAGE, page(5)); // fetched: the pager kept what A gave back
            }
        }
    }

    @Test
    void aStoreThatRefusesWriteAccessToAPageGetsTheKernelADataErrorAndGrantsNothing() {
        PageStore readOnlyAtZero = new FailingStore(0) {
            @Override
            public void unlock(String object, long offset) throws java.io.IOException {
                if (offset == 0) {
                    throw new java.io.IOException("page 0 is read-only");
                }
            }
        };
        XpKernels x = new XpKernels(readOnlyAtZero);
        long a = x.kernel(1, "A");

        x.write(a, 0);
        PagerToKernel refused = x.one(a);
        assertThat(refused.hasMemoryObjectDataError()).as("%s", refused).isTrue();
        assertThat(refused.getMemoryObjectDataError().getReason()).contains("page 0 is read-only");
        assertThat(x.pager.pageWriter("obj", 0)).isNull();

        x.read(a, 0);
        assertReadCopy(x.one(a), 0, null);
        x.unlock(a, 0);
        assertThat(x.one(a).hasMemoryObjectDataError()).isTrue();
        assertThat(x.pager.pageReaders("obj", 0)).as("it keeps its read-only copy").containsExactly("A");

        x.write(a, PAGE);
        assertWriteCopy(x.one(a), PAGE, null);
    }

    /**
     * A grant's lease that still runs is a timer of the core: a snapshot keeps it as data, and a
     * core restored from it asks the holder to relinquish when the lease ends, as the original does.
     */
    @Test
    void aGrantLeaseRunningAtASnapshotEndsInTheRestoredCoreToo() {
        GrantPolicy leased = new GrantPolicy() {
            @Override
            public String name() {
                return "leased";
            }

            @Override
            public long relinquishAfterNanos(int topWaitingPriority) {
                return 1_000_000_000L;
            }
        };
        XpKernels x = pager(leased);
        long a = x.kernel(1, "A");
        long b = x.kernel(2, "B");
        x.lockFutex(a, 0);
        x.take(a);
        x.lockFutex(b, 0);
        x.nothingTo(a); // its grant's lease runs: not asked yet

        XpKernels restored = pager(leased);
        restored.pager.restore(x.pager.snapshot());
        assertThat(restored.pager.snapshot()).isEqualTo(x.pager.snapshot());
        assertThat(x.pager.snapshot().getTimersList()).anyMatch(t -> t.hasGrantLeaseEnd());
        x.advance(1_000_000_000L);
        restored.advance(1_000_000_000L);
        List<PagerToKernel> toA = x.take(a);
        assertThat(toA).anyMatch(PagerToKernel::hasMemoryObjectRelinquishFutex);
        assertThat(restored.take(a)).isEqualTo(toA);
    }
}
