package io.machxp.kernel.core;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;

/**
 * The bound on a reclaim's size (docs/xp-spec.md 9.4): a reclaim travels in one kernel_hello, and
 * a pager takes a kernel message of at most {@link #MAX_BYTES} (machxp's pager sets its gRPC
 * inbound limit to it). Part of the kernel core ({@link SessionReclaim}): core thread only.
 *
 * <h2>Overview</h2>
 * A hello over the bound would be refused by the pager's transport, with no word of the pager
 * (RESOURCE_EXHAUSTED without ErrorInfo): the kernel would try again until its lease ran out and
 * lose the writes the reclaim exists to save. So before it is sent:
 * <pre>
 *  hello within the bound           -> sent as built
 *  over it                          -> every page held read-only, without data, that the kernel
 *                                      may drop (not precious, nothing waiting on it) leaves the
 *                                      account and is dropped here: a later access pages it in
 *                                      again. Futexes, writable pages and data given back stay.
 *  still over it                    -> sent as it is (the kernel logs it): nothing more can go
 *                                      without losing a write
 * </pre>
 */
final class ReclaimBound {
    /** The most bytes of a kernel message a pager takes (the pager's gRPC inbound limit): 64 MiB. */
    static final int MAX_BYTES = 64 << 20;

    /** Whether the kernel may drop a read-only page it holds (at {@code objectId}, {@code offset}) and drops it. */
    interface Dropper {
        boolean drop(int objectId, long offset);
    }

    private ReclaimBound() {}

    /**
     * The reclaim of {@code hello} fitted within {@code maxBytes} as the overview says; {@code
     * dropped[0]} counts the pages dropped. Returns the hello to send.
     */
    static KernelToPager fit(KernelToPager hello, int maxBytes, Dropper dropper, int[] dropped) {
        if (hello.getSerializedSize() <= maxBytes) {
            return hello;
        }
        Reclaim r = hello.getKernelHello().getReclaim();
        Reclaim.Builder fitted = r.toBuilder().clearObjects();
        for (ReclaimedObject o : r.getObjectsList()) {
            ReclaimedObject.Builder ro = o.toBuilder().clearPages();
            for (ReclaimedPage p : o.getPagesList()) {
                boolean readOnlyClean = p.getAccess() == VmProt.VM_PROT_READ && p.getData().isEmpty();
                if (readOnlyClean && dropper.drop(o.getObjectId(), p.getOffset())) {
                    dropped[0]++;
                } else {
                    ro.addPages(p);
                }
            }
            fitted.addObjects(ro);
        }
        return hello.toBuilder().setKernelHello(hello.getKernelHello().toBuilder().setReclaim(fitted)).build();
    }
}
