"""Application services: each public function reads the streams it needs, asks the domain, appends."""
