import Image from '@tiptap/extension-image';
import { EditorContent, useEditor, useEditorState, type Editor } from '@tiptap/react';
import StarterKit from '@tiptap/starter-kit';
import { useEffect, type ReactNode } from 'react';

/** The largest image pasted or dropped into the editor (it travels inside the HTML). */
export const MAX_INLINE_IMAGE_BYTES = 512 * 1024;

/**
 * A rich-text editor (TipTap, on ProseMirror): bold, italic, bulleted and numbered lists,
 * links, and images pasted or dropped into it (kept inline as data: URLs, at most 512 KB each;
 * the server sends them as inline parts). `onReady` hands the editor over once it exists.
 */
export function RichTextEditor({
  initialHtml,
  label,
  onChange,
  onReady,
  onImageRefused,
  disabled = false,
  footer,
}: {
  initialHtml: string;
  label: string;
  onChange: (html: string) => void;
  onReady?: (editor: Editor) => void;
  onImageRefused?: (reason: string) => void;
  disabled?: boolean;
  /** Shown inside the editor's frame, under what is written (the signature, E2). */
  footer?: ReactNode;
}) {
  const editor = useEditor({
    extensions: [StarterKit.configure({ link: { openOnClick: false, autolink: true } }), Image.configure({ allowBase64: true })],
    content: initialHtml,
    editable: !disabled,
    // The page's CSP has no inline styles: TipTap's base styles are in email.css.
    injectCSS: false,
    editorProps: {
      attributes: { 'aria-label': label, role: 'textbox', 'aria-multiline': 'true' },
      handlePaste: (_view, event) => insertImages(event.clipboardData?.files),
      handleDrop: (_view, event) => insertImages((event as DragEvent).dataTransfer?.files),
    },
    onUpdate: ({ editor }) => onChange(editor.getHTML()),
  });

  function insertImages(files: FileList | null | undefined): boolean {
    const images = Array.from(files ?? []).filter((f) => f.type.startsWith('image/') && f.type !== 'image/svg+xml');
    if (images.length === 0 || !editor) return false;
    for (const file of images) {
      if (file.size > MAX_INLINE_IMAGE_BYTES) {
        onImageRefused?.(`${file.name} is over 512 KB: attach it as a file instead.`);
        continue;
      }
      const reader = new FileReader();
      reader.onload = () => {
        if (typeof reader.result === 'string') editor.chain().focus().setImage({ src: reader.result, alt: file.name }).run();
      };
      reader.readAsDataURL(file);
    }
    return true;
  }

  useEffect(() => {
    if (editor) onReady?.(editor);
  }, [editor, onReady]);
  useEffect(() => {
    editor?.setEditable(!disabled);
  }, [editor, disabled]);

  return (
    <div className="email-composer__rich">
      {editor && <Toolbar editor={editor} disabled={disabled} />}
      <div className="email-composer__editor">
        <EditorContent editor={editor} />
        {footer}
      </div>
    </div>
  );
}

function Toolbar({ editor, disabled }: { editor: Editor; disabled: boolean }) {
  const active = useEditorState({
    editor,
    selector: ({ editor: e }) => ({
      bold: e.isActive('bold'),
      italic: e.isActive('italic'),
      bullet: e.isActive('bulletList'),
      ordered: e.isActive('orderedList'),
      link: e.isActive('link'),
    }),
  });
  const button = (label: string, pressed: boolean, run: () => void, text: string) => (
    <button
      type="button"
      className="button button--small button--quiet"
      aria-label={label}
      aria-pressed={pressed}
      disabled={disabled}
      onMouseDown={(event) => event.preventDefault()}
      onClick={run}
    >
      {text}
    </button>
  );
  return (
    <div className="email-composer__toolbar" role="toolbar" aria-label="Formatting">
      {button('Bold', active.bold, () => editor.chain().focus().toggleBold().run(), 'B')}
      {button('Italic', active.italic, () => editor.chain().focus().toggleItalic().run(), 'I')}
      {button('Bulleted list', active.bullet, () => editor.chain().focus().toggleBulletList().run(), '• List')}
      {button('Numbered list', active.ordered, () => editor.chain().focus().toggleOrderedList().run(), '1. List')}
      {button(
        'Link',
        active.link,
        () => {
          if (active.link) {
            editor.chain().focus().unsetLink().run();
            return;
          }
          const href = window.prompt('Link address (https://…)');
          if (href && /^(https?:|mailto:)/i.test(href.trim()))
            editor.chain().focus().extendMarkRange('link').setLink({ href: href.trim() }).run();
        },
        'Link',
      )}
    </div>
  );
}
