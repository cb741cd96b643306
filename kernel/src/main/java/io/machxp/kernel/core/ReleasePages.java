package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.NOT_RECOVERABLE;
import static io.machxp.kernel.futex.FutexWord.OWNER_DIED;
import static io.machxp.kernel.futex.FutexWord.WAITERS;

import com.google.protobuf.ByteString;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.policy.FutexPolicy;
import io.machxp.kernel.vm.VmObject;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.PageData;
import java.util.List;

/**
 * What a futex's data does when the futex goes back to the pager (memory_object_futex_released),
 * as the variant's {@link FutexPolicy} says. Every way hands the pager the writes made under the
 * futex no later than the release, so a crash of this kernel after it loses none of them:
 * <ul>
 *   <li>page with the futex (Parts III/IV, the default): the futex's own page inside the release,
 *       with piggyback also the pages dirtied under it; the next owner gets them in its grant;
 *   <li>page apart (cached): the same pages in data_returns just before the release, the next
 *       owner pages them in on its own;
 *   <li>Part II (no cache): the pages written under the futex in data_returns with kernel_copy,
 *       the pages themselves staying here until the pager asks for them.
 * </ul>
 * Part of the kernel core's futexes: core thread only.
 */
final class ReleasePages {
    private final KernelCore core;
    private final PageCache pages;
    private final FutexPolicy policy;

    ReleasePages(KernelCore core, PageCache pages, FutexPolicy policy) {
        this.core = core;
        this.pages = pages;
        this.policy = policy;
    }

    /** Sends what must leave before {@code released}, and adds to it what leaves inside it. */
    void leave(FutexEntry e, MemoryObjectFutexReleased.Builder released) {
        VmObject o = core.objects.object(e.objectId());
        if (!policy.cacheFutexes()) {
            pages.writeBack(o, e);
        } else if (!policy.pageWithFutex()) {
            for (PageData d : pages.takeForRelease(o, e, policy.piggyback())) {
                core.sessions.send(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                        .setObjectId(e.objectId()).setOffset(d.getOffset()).setDirty(d.getDirty())
                        .setData(d.getDirty() ? d.getData() : ByteString.EMPTY).setVersion(d.getVersion())).build());
            }
        } else {
            int word = e.page.resident() ? PageWords.wordInPage(e) & ~WAITERS : 0;
            List<PageData> taken = pages.takeForRelease(o, e, policy.piggyback());
            released.addAllPages(taken);
            if ((word == OWNER_DIED || word == NOT_RECOVERABLE)
                    && taken.stream().noneMatch(d -> d.getOffset() == e.page.pageOffset)) {
                // A death recorded only in a page that stays here: should this kernel die before the
                // page goes back, the pager still tells the next owner.
                released.setOwnerDied(true);
            }
        }
    }
}
