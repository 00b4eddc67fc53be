/**
 * happy-dom's TreeWalker.previousNode does not follow the DOM standard: after looking into a
 * previous sibling's last descendants it climbs from where it started, not from the deepest node
 * it visited, so it misses e.g. the last button of a dialog. react-aria's FocusScope walks
 * backwards with it for Shift+Tab at the first control of a modal (to wrap to the last), as
 * browsers do correctly. This replaces it with the standard's algorithm
 * (https://dom.spec.whatwg.org/#dom-treewalker-previousnode).
 */
export function fixTreeWalkerPreviousNode() {
  const accept = (walker: TreeWalker, node: Node): number => {
    // whatToShow's bit for a node type n is 1 << (n - 1).
    if (!(walker.whatToShow & (1 << (node.nodeType - 1)))) return NodeFilter.FILTER_SKIP;
    const filter = walker.filter as NodeFilter | ((node: Node) => number) | null;
    if (!filter) return NodeFilter.FILTER_ACCEPT;
    return typeof filter === 'function' ? filter(node) : filter.acceptNode(node);
  };
  TreeWalker.prototype.previousNode = function previousNode(this: TreeWalker): Node | null {
    let node: Node = this.currentNode;
    while (node !== this.root) {
      let sibling = node.previousSibling;
      while (sibling) {
        node = sibling;
        let result = accept(this, node);
        while (result !== NodeFilter.FILTER_REJECT && node.lastChild) {
          node = node.lastChild;
          result = accept(this, node);
        }
        if (result === NodeFilter.FILTER_ACCEPT) {
          this.currentNode = node;
          return node;
        }
        sibling = node.previousSibling;
      }
      if (node === this.root || !node.parentNode) return null;
      node = node.parentNode;
      if (accept(this, node) === NodeFilter.FILTER_ACCEPT) {
        this.currentNode = node;
        return node;
      }
    }
    return null;
  };
}
