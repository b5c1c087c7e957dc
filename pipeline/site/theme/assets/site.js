/* Enhances the episode page; everything works without it. Links with data-start (chapters,
   highlights, transcript lines) seek this page's player instead of opening the audio file at
   their media fragment; the transcript line being heard is highlighted; the transcript search
   shows only the lines with the words typed. */
"use strict";
(function () {
  var audio = document.querySelector("audio[data-player]");
  if (!audio) return;

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-start]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    audio.currentTime = parseFloat(link.getAttribute("data-start"));
    var playing = audio.play();
    if (playing && playing.catch) playing.catch(function () {});
  });

  var lines = Array.prototype.slice.call(document.querySelectorAll("[data-cue]"));
  var starts = lines.map(function (line) { return parseFloat(line.getAttribute("data-start")); });
  var current = null;
  audio.addEventListener("timeupdate", function () {
    var low = 0, high = starts.length - 1, found = null;
    while (low <= high) {  // the last line that starts at or before the playing time
      var mid = (low + high) >> 1;
      if (starts[mid] <= audio.currentTime) { found = lines[mid]; low = mid + 1; } else { high = mid - 1; }
    }
    if (found === current) return;
    if (current) current.classList.remove("current");
    if (found) found.classList.add("current");
    current = found;
  });

  var search = document.getElementById("transcript-search");
  if (!search) return;
  var input = search.querySelector("input");
  var status = search.querySelector("[role=status]");
  search.hidden = false;
  search.addEventListener("submit", function (event) { event.preventDefault(); });
  input.addEventListener("input", function () {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    lines.forEach(function (line) {
      var text = line.textContent.toLowerCase();
      var match = words.every(function (word) { return text.indexOf(word) !== -1; });
      line.hidden = !match;
      if (match) shown += 1;
    });
    status.textContent = words.length ? shown + (shown === 1 ? " line matches" : " lines match") : "";
  });
})();
