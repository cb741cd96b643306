package io.machxp.kernel.core;

import com.google.protobuf.ByteString;
import io.machxp.kernel.vm.VmObject;
import io.machxp.kernel.vm.VmPage;
import io.machxp.kernel.vm.VmPage.Access;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The dirty pages the kernel gave back without knowing yet whether the pager took them, kept for
 * a reclaim. Part of the kernel core: core thread only; the {@link PageCache} says what leaves,
 * the session ({@link KernelSession}) when keepalives go out and are answered.
 *
 * <h2>Overview</h2>
 * Versions and retained returns. Each page carries the pager's version of its contents; a dirty
 * page leaving the kernel is one version more. With a lease, the data of each dirty page that
 * left is kept until the pager answers a keepalive sent after it (the stream is FIFO, so the
 * pager has taken it by then): if the pager restarts meanwhile, the reclaim gives it again, and
 * the version tells the pager whether it had taken it.
 * <pre>
 *  data_return or futex_released, dirty  -> retained until the next keepalive is answered
 *  pager_keepalive answered              -> what left before that keepalive is dropped
 *  the page supplied again, same version or newer -> dropped (the pager had taken it)
 *  reclaim                               -> given again, retained until the next keepalive
 * </pre>
 */
final class RetainedReturns {
    /** A dirty page that went to the pager, kept until keepalive {@code answeredBy} is answered. */
    private record Retained(long version, ByteString data, long answeredBy) {}

    private final Map<VmPage, Retained> retained = new HashMap<>();
    private boolean retainReturns;
    private long nextKeepalive = 1;

    /** With a lease: keep what leaves dirty until a keepalive sent after it is answered. */
    void retainReturns() {
        retainReturns = true;
    }

    /** Keepalive {@code sequence} went to the pager: returns sent since wait for its successor. */
    void keepaliveSent(long sequence) {
        nextKeepalive = sequence + 1;
    }

    /** The pager answered keepalive {@code sequence}: it has taken everything sent before it. */
    void keepaliveAnswered(long sequence) {
        retained.values().removeIf(r -> r.answeredBy <= sequence);
    }

    /** Page {@code p} leaves dirty with {@code data}, at its new version. */
    void retain(VmPage p, ByteString data) {
        if (retainReturns) {
            retained.put(p, new Retained(p.version, data, nextKeepalive));
        }
    }

    /** The pager supplied page {@code p} again at {@code version}. */
    void supplied(VmPage p, long version) {
        Retained r = retained.get(p);
        if (r != null && version >= r.version) {
            retained.remove(p); // the pager took it before it supplied the page again
        }
    }

    /**
     * For a reclaim: the pages of {@code o} this kernel holds (with their access and version) and
     * those it gave back dirty without knowing whether the pager took them (with their data).
     * What is retained now is given again in the reclaim, so the next keepalive acknowledges it.
     */
    List<ReclaimedPage> reclaim(VmObject o) {
        List<ReclaimedPage> out = new ArrayList<>();
        o.forEachPage(p -> {
            Retained r = retained.get(p);
            if (!p.resident() && r == null) {
                return;
            }
            ReclaimedPage.Builder b = ReclaimedPage.newBuilder().setOffset(p.pageOffset).setVersion(p.version)
                    .setAccess(p.access == Access.READ_WRITE ? VmProt.VM_PROT_READ_WRITE
                            : p.access == Access.READ ? VmProt.VM_PROT_READ : VmProt.VM_PROT_NONE);
            if (r != null) {
                b.setVersion(r.version).setData(r.data);
                retained.put(p, new Retained(r.version, r.data, nextKeepalive));
            }
            out.add(b.build());
        });
        return out;
    }

    /** Pages given back dirty whose taking the pager has not confirmed yet; for tests. */
    int count() {
        return retained.size();
    }
}
