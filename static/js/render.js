// The restitution PDF in the console: start a render without leaving the page, follow it, offer the finished file.
// Without this module the form still works: the server answers with a page that reloads itself while it renders.

const POLL_MS = 1000;

function show(line, status) {
  line.dataset.renderState = status.state;
  const progress = line.querySelector(".render__progress");
  progress.textContent = status.label || "";
  progress.classList.toggle("render__progress--error", status.state === "failed" || status.state === "busy");
  const link = line.querySelector(".render__download");
  if (status.file) {
    link.href = status.file.url;
    link.textContent = status.file.label;
    link.hidden = false;
  } else {
    link.removeAttribute("href");
    link.hidden = true;
  }
  if (status.state !== "none") line.querySelector(".render__none")?.remove();
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Ask for the status every second until the render is over; one loop per line at most.
async function follow(line) {
  if (line.dataset.following) return;
  line.dataset.following = "1";
  try {
    for (;;) {
      const response = await fetch(line.dataset.renderStatusUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) break;
      const status = await response.json();
      show(line, status);
      if (status.state !== "running") break;
      await wait(POLL_MS);
    }
  } catch {
    // Offline, or signed out meanwhile (the answer is the sign-in page): a reload shows where the render is.
  } finally {
    delete line.dataset.following;
  }
}

for (const section of document.querySelectorAll("[data-render]")) {
  const form = section.querySelector(".render__form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST", body: new FormData(form), headers: { Accept: "application/json" },
      });
      // 409: another PDF is being made; the answer says which, shown on the line asked for.
      const status = response.ok || response.status === 409 ? await response.json() : null;
      const line = status && section.querySelector(`[data-render-format="${status.format}"]`);
      if (!line) {
        form.submit();
        return;
      }
      show(line, status);
      if (status.state === "running") follow(line);
    } catch {
      form.submit();
    } finally {
      button.disabled = false;
    }
  });
  for (const line of section.querySelectorAll("[data-render-format]")) {
    if (line.dataset.renderState === "running") follow(line);
  }
}
