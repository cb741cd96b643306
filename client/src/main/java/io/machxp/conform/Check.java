package io.machxp.conform;

import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;

/** Assertions of the cases: each throws a {@link Violation} saying the rule and what was seen. */
final class Check {
    private Check() {}

    static void that(boolean ok, String violation) {
        if (!ok) {
            throw new Violation(violation);
        }
    }

    /**
     * The stream ended with this gRPC code and an ErrorInfo of domain machxp with this reason
     * (spec 3.1), e.g. for a breach of XP itself (spec 3.2).
     */
    static void endedWith(FakeKernel k, Status.Code code, String reason, String why) {
        Status s = k.awaitEnd(why);
        that(s.getCode() == code, why + ": the stream must end with " + code + " / " + reason + ", it ended with "
                + FakeKernel.describe(s));
        ErrorInfo info = k.errorInfo();
        that(info != null, why + ": the status must carry a google.rpc.ErrorInfo (spec 3.1); it has none");
        that("machxp".equals(info.getDomain()) && reason.equals(info.getReason()), why + ": ErrorInfo must be domain "
                + "machxp, reason " + reason + " (spec 3.1); it is " + info.getDomain() + " / " + info.getReason());
        that(s.getDescription() != null && !s.getDescription().isBlank(), why + ": the status must carry a sentence "
                + "for a person (spec 3.1)");
    }

    /** A page as the pager gave it: its data (zeros for data_unavailable), lock value and version. */
    record Page(byte[] data, VmProt lock, long version) {}

    /** Waits for data_supply or data_unavailable of the page at {@code offset}. */
    static Page supplied(FakeKernel k, long offset, int pageSize, String why) {
        PagerToKernel m = k.await("data_supply or data_unavailable at 0x" + Long.toHexString(offset) + ": " + why,
                x -> x.hasMemoryObjectDataSupply() && x.getMemoryObjectDataSupply().getOffset() == offset
                        || x.hasMemoryObjectDataUnavailable() && x.getMemoryObjectDataUnavailable().getOffset() == offset);
        if (m.hasMemoryObjectDataSupply()) {
            var s = m.getMemoryObjectDataSupply();
            that(s.getData().size() == pageSize, "data_supply at 0x" + Long.toHexString(offset) + " must carry whole "
                    + "pages (spec 12.16): " + s.getData().size() + " bytes for one page of " + pageSize);
            return new Page(s.getData().toByteArray(), s.getLockValue(), s.getVersion());
        }
        var u = m.getMemoryObjectDataUnavailable();
        return new Page(new byte[pageSize], u.getLockValue(), u.getVersion());
    }

    /** Waits for a lock_request of the page at {@code offset}. */
    static io.machxp.proto.xp.MemoryObjectLockRequest lockRequest(FakeKernel k, long offset, String why) {
        return k.await("lock_request at 0x" + Long.toHexString(offset) + ": " + why,
                m -> m.hasMemoryObjectLockRequest() && m.getMemoryObjectLockRequest().getOffset() == offset)
                .getMemoryObjectLockRequest();
    }

    static boolean isPageAnswer(PagerToKernel m, long offset) {
        return m.hasMemoryObjectDataSupply() && m.getMemoryObjectDataSupply().getOffset() == offset
                || m.hasMemoryObjectDataUnavailable() && m.getMemoryObjectDataUnavailable().getOffset() == offset
                || m.hasMemoryObjectLockRequest() && m.getMemoryObjectLockRequest().getOffset() == offset;
    }

    static boolean isGrant(PagerToKernel m, long offset) {
        return m.hasMemoryObjectFutexGranted() && m.getMemoryObjectFutexGranted().getOffset() == offset;
    }
}
