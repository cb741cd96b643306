package io.machxp.cli;

import io.machxp.proto.admin.PagerStatusReply;
import io.machxp.proto.task.KernelStatisticsReply;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** machxp status --json: the replies as plain maps, with the field names of the .proto in camelCase. */
final class StatusJson {
    private StatusJson() {}

    static Map<String, Object> of(PagerStatusReply s, List<KernelStatisticsReply> kernels) {
        Map<String, Object> pager = new LinkedHashMap<>();
        pager.put("pagerName", s.getPagerName());
        pager.put("leaseMs", s.getLeaseMs());
        pager.put("inGrace", s.getInGrace());
        pager.put("sessions", s.getSessionsList().stream().map(k -> map("kernelName", k.getKernelName(),
                "kernelId", k.getKernelId(), "sessionId", k.getSessionId(), "leaseLeftMs", k.getLeaseLeftMs(),
                "futexesHeld", k.getFutexesHeld(), "futexesQueued", k.getFutexesQueued(), "broken", k.getBroken()))
                .toList());
        pager.put("futexes", s.getFutexesList().stream().map(f -> map("object", f.getObject(), "offset", f.getOffset(),
                "holder", f.getHolder(), "fencingToken", Long.toUnsignedString(f.getFencingToken()),
                "waiters", f.getWaitersList().stream().map(w -> map("kernel", w.getKernel(),
                        "priority", Integer.toUnsignedLong(w.getPriority()))).toList(),
                "ownerDied", f.getOwnerDied())).toList());
        pager.put("pages", s.getPagesList().stream().map(p -> map("object", p.getObject(), "offset", p.getOffset(),
                "writer", p.getWriter(), "readers", p.getReadersList())).toList());
        if (s.getFutexesOmitted() > 0 || s.getPagesOmitted() > 0) { // past the reply's bound: counted, not listed
            pager.put("futexesOmitted", s.getFutexesOmitted());
            pager.put("pagesOmitted", s.getPagesOmitted());
        }
        Map<String, Object> all = new LinkedHashMap<>();
        all.put("pager", pager);
        all.put("kernels", kernels.stream().map(k -> map("kernelName", k.getKernelName(), "kernelId", k.getKernelId(),
                "xpSent", k.getXpSentMap(), "xpReceived", k.getXpReceivedMap(), "acquires", k.getAcquiresMap()))
                .toList());
        return all;
    }

    private static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }
}
