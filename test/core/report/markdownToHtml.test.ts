import { strict as assert } from 'node:assert';
import { markdownToHtml } from '../../../src/core/report/markdownToHtml';

const render = (markdown: string) => markdownToHtml(markdown).value;

describe('notes rendered as HTML', () => {
  it('renders headings, lists, emphasis, code and fences', () => {
    assert.equal(
      render('# Plan\n\n- **Systems:** orders\n- `POST /x` *now*\n\n```sh\na < b\n```'),
      '<h1>Plan</h1>\n<ul>\n<li><strong>Systems:</strong> orders</li>\n<li><code>POST /x</code> <em>now</em></li>\n</ul>\n<pre><code class="language-sh">a &lt; b\n</code></pre>',
    );
  });

  it('escapes HTML written in the notes instead of passing it through', () => {
    const html = render('Hello <script>alert(1)</script> & <img src=x onerror=alert(1)>');
    assert.equal(
      html,
      '<p>Hello &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;</p>',
    );
  });

  it('keeps http and mailto links and drops javascript: ones to their text', () => {
    assert.equal(
      render('[docs](https://example.com/a?b=1&c=2)'),
      '<p><a href="https://example.com/a?b=1&amp;c=2">docs</a></p>',
    );
    assert.equal(render('[click](javascript:alert(1))'), '<p>[click](javascript:alert(1))</p>');
    assert.equal(render('[page](./other.html)'), '<p>[page](./other.html)</p>');
    assert.equal(
      render('[mail](mailto:ada@example.com)'),
      '<p><a href="mailto:ada@example.com">mail</a></p>',
    );
  });

  it('escapes an HTML block written in the notes as well', () => {
    assert.equal(
      render('<div onclick="x()">\n<iframe src="https://example.com"></iframe>\n</div>'),
      '<p>&lt;div onclick=&quot;x()&quot;&gt;\n&lt;iframe src=&quot;https://example.com&quot;&gt;&lt;/iframe&gt;\n&lt;/div&gt;</p>',
    );
  });

  it('renders no image, so opening the report fetches nothing', () => {
    assert.doesNotMatch(render('![pixel](https://tracker.example.com/p.png)'), /<img/);
  });

  it('formats nothing inside a code span', () => {
    assert.equal(render('`**not bold** <b>`'), '<p><code>**not bold** &lt;b&gt;</code></p>');
  });

  it('demotes headings below the report’s own when asked', () => {
    assert.equal(markdownToHtml('# Title', { headingShift: 2 }).value, '<h3>Title</h3>');
    assert.equal(markdownToHtml('##### Deep', { headingShift: 2 }).value, '<h6>Deep</h6>');
  });
});
