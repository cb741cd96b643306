package io.machxp.pager.page;

/** A page as the pager names it: the memory object and the page-aligned offset. */
public record PageKey(String object, long offset) {
    @Override
    public String toString() {
        return "page 0x" + Long.toHexString(offset) + " of '" + object + "'";
    }
}
