package io.machxp.pager.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A {@link FilePageStore}'s group commit: the store thread writes every page queued for it, then
 * forces each file once, instead of two forces a page (a disk that forces slower than pages come
 * would make the queue, and every keepalive answer behind it, grow without bound).
 * <pre>
 *  open     a write's record goes into its spare slot at once (not forced); its data is held
 *           here ({@link #add}), and reads of the page are answered from here ({@link #get})
 *  ending   the records files forced; then each page's data written; then the data files
 *           forced; then each page told written ({@link Outcome#written})
 *  failed   an I/O error before any data was written leaves every page as it was on disk; one
 *           after: each page told unsettled ({@link Outcome#unsettled}), its slot read again
 * </pre>
 * A page written twice in the batch keeps its spare slot (the slot describing its data on disk
 * stays untouched until the end). Not thread-safe: the store calls it under its lock.
 */
final class StoreBatch {
    /** A write in the batch: its data, held until the records are forced. */
    record Pending(byte[] page, long version, int slot, FileChannel file) {}

    /** What the batch's end tells the store of each page. */
    interface Outcome {
        /** The page's data and the slot describing it are on disk. */
        void written(String object, long offset, int slot, long version);

        /** The page's data write failed after it began: which slot describes it is known again when read. */
        void unsettled(String object, long offset);
    }

    /** The pages written (object -> offset -> write), in order. */
    private final Map<String, LinkedHashMap<Long, Pending>> pages = new LinkedHashMap<>();
    /** The records files written and the data files to write. */
    private final Set<FileChannel> sums = new LinkedHashSet<>();
    private final Set<FileChannel> data = new LinkedHashSet<>();

    /** A write whose record is in {@code slot} of {@code sumsFile}, not yet forced; its data goes to {@code dataFile} at the end. */
    void add(String object, long offset, byte[] page, long version, int slot, FileChannel sumsFile,
            FileChannel dataFile) {
        sums.add(sumsFile);
        data.add(dataFile);
        pages.computeIfAbsent(object, o -> new LinkedHashMap<>()).put(offset, new Pending(page, version, slot, dataFile));
    }

    /** Whether a page of the object is written in this batch (its files must stay open until the end). */
    boolean holds(String object) {
        return pages.containsKey(object);
    }

    /** The objects written in this batch. */
    int objects() {
        return pages.size();
    }

    /** The page's write in this batch, or null. */
    Pending get(String object, long offset) {
        Map<Long, Pending> offsets = pages.get(object);
        return offsets == null ? null : offsets.get(offset);
    }

    /**
     * Makes the batch durable: records first, then data (see the class comment).
     *
     * @throws IOException after telling {@code outcome} which pages are unsettled
     */
    void end(PageRecords.Channels channels, FilePageStore.Steps steps, Outcome outcome) throws IOException {
        boolean dataBegun = false;
        try {
            for (FileChannel f : sums) {
                channels.force(f);
            }
            steps.at(FilePageStore.Step.RECORDS_FORCED, null, -1);
            dataBegun = true;
            for (var object : pages.entrySet()) {
                for (var p : object.getValue().entrySet()) {
                    FilePageStore.writeFully(p.getValue().file(), ByteBuffer.wrap(p.getValue().page()), p.getKey());
                    steps.at(FilePageStore.Step.DATA_WRITTEN, object.getKey(), p.getKey());
                }
            }
            for (FileChannel f : data) {
                channels.force(f);
            }
            steps.at(FilePageStore.Step.DATA_FORCED, null, -1);
            for (var object : pages.entrySet()) {
                for (var p : object.getValue().entrySet()) {
                    outcome.written(object.getKey(), p.getKey(), p.getValue().slot(), p.getValue().version());
                }
            }
        } catch (IOException e) {
            if (dataBegun) { // which slot describes each page's data on disk is known again when read
                pages.forEach((object, offsets) -> offsets.keySet().forEach(offset -> outcome.unsettled(object, offset)));
            }
            throw e;
        }
    }
}
