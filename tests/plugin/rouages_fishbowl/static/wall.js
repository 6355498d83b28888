// The fishbowl's wall: the newest idea in the centre, the ones before it on a ring of chairs.

export function mount(ctx) {
  const { t, el, root } = ctx;
  const bowl = root.querySelector("#fishbowl");
  const centre = root.querySelector("#fishbowl-centre");
  const ring = root.querySelector("#fishbowl-ring");
  const chairs = Number(bowl.dataset.chairs) || 6;

  function render({ posts }) {
    const [newest, ...before] = posts;
    centre.textContent = newest ? newest.text : t("No ideas yet.");
    bowl.dataset.total = t("%(count)s ideas", { count: posts.length });
    ring.replaceChildren(...before.slice(0, chairs).map((post, index) => {
      const chair = el("li", { class: "fishbowl__chair", text: post.text, dataset: { seq: post.seq } });
      chair.style.setProperty("--turn", `${index / chairs}turn`);
      return chair;
    }));
  }

  return { render };
}
